// Extracts the metric names that a PromQL expression selects, without a full
// PromQL parser. promtool reports syntax errors, so this scanner only has to
// tell metric names apart from functions, keywords, label names, strings and
// durations in expressions that promtool accepts.

// Aggregation operators may be followed by "by (...)" before their "(",
// so they are recognised by name rather than by a following parenthesis.
const AGGREGATIONS = new Set([
  "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
  "bottomk", "topk", "quantile", "limitk", "limit_ratio",
]);

const KEYWORDS = new Set([
  "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan",
]);

// Keywords followed by a parenthesised list of label names.
const LABEL_LIST_KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

const IDENTIFIER = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const NUMBER_OR_DURATION = /^(?:0x[0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:ms|[smhdwy])*)/;

// Grafana template variables ($var, ${var}, ${var:format}, [[var]]) are not
// PromQL. They stand for label values, durations or whole strings.
export function stripGrafanaVariables(expression) {
  return expression
    .replace(/\$\{[^}]*\}/g, "")
    .replace(/\[\[[^\]]*\]\]/g, "")
    .replace(/\$[a-zA-Z_][a-zA-Z0-9_]*/g, "");
}

function skipString(text, index) {
  const quote = text[index];
  let position = index + 1;
  while (position < text.length && text[position] !== quote) {
    position += text[position] === "\\" && quote !== "`" ? 2 : 1;
  }

  return position + 1;
}

// Returns the index just past the bracket that closes the one at index,
// skipping strings inside.
function skipBalanced(text, index, open, close) {
  let depth = 0;
  let position = index;
  while (position < text.length) {
    const character = text[position];
    if (character === '"' || character === "'" || character === "`") {
      position = skipString(text, position);
      continue;
    }

    if (character === open) {
      depth += 1;
    } else if (character === close) {
      depth -= 1;
      if (depth === 0) {
        return position + 1;
      }
    }

    position += 1;
  }

  return position;
}

function nextNonSpace(text, index) {
  let position = index;
  while (position < text.length && /\s/.test(text[position])) {
    position += 1;
  }

  return position;
}

/**
 * Returns the set of metric names that expression selects. Names given as
 * {__name__="..."} matchers count too. A regular-expression __name__ matcher
 * cannot be checked, so it is returned as a problem.
 */
export function extractMetricNames(expression) {
  const text = stripGrafanaVariables(expression);
  const names = new Set();
  const problems = [];
  let position = 0;

  while (position < text.length) {
    const character = text[position];

    if (/\s/.test(character)) {
      position += 1;
      continue;
    }

    if (character === "#") {
      const end = text.indexOf("\n", position);
      position = end === -1 ? text.length : end + 1;
      continue;
    }

    if (character === '"' || character === "'" || character === "`") {
      position = skipString(text, position);
      continue;
    }

    if (character === "{") {
      const end = skipBalanced(text, position, "{", "}");
      const matchers = text.slice(position, end);
      for (const match of matchers.matchAll(/__name__\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
        if (match[1] === "=") {
          names.add(match[2]);
        } else {
          problems.push(`cannot check the __name__${match[1]} matcher "${match[2]}"`);
        }
      }

      position = end;
      continue;
    }

    // Range selectors, subqueries and their durations.
    if (character === "[") {
      position = skipBalanced(text, position, "[", "]");
      continue;
    }

    const number = NUMBER_OR_DURATION.exec(text.slice(position));
    if (number && /[0-9.]/.test(character)) {
      position += number[0].length;
      continue;
    }

    const identifier = IDENTIFIER.exec(text.slice(position));
    if (identifier) {
      const word = identifier[0];
      position += word.length;
      const after = nextNonSpace(text, position);

      if (LABEL_LIST_KEYWORDS.has(word)) {
        if (text[after] === "(") {
          position = skipBalanced(text, after, "(", ")");
        }

        continue;
      }

      if (KEYWORDS.has(word) || AGGREGATIONS.has(word)) {
        continue;
      }

      // A function call.
      if (text[after] === "(") {
        continue;
      }

      names.add(word);
      continue;
    }

    // Operators, parentheses, commas and the @ modifier.
    position += 1;
  }

  return { names, problems };
}

/**
 * Splits a Grafana variable query into the PromQL it contains:
 * label_values(EXPR, label) and query_result(EXPR) carry an expression,
 * label_values(label) and label_names() carry none.
 */
export function promqlOfVariableQuery(query) {
  const trimmed = query.trim();

  const labelValues = /^label_values\(\s*(.*)\s*\)$/s.exec(trimmed);
  if (labelValues) {
    const inner = labelValues[1];
    const lastComma = inner.lastIndexOf(",");
    return lastComma === -1 ? null : inner.slice(0, lastComma).trim();
  }

  const queryResult = /^query_result\(\s*(.*)\s*\)$/s.exec(trimmed);
  if (queryResult) {
    return queryResult[1];
  }

  if (/^(label_names|metrics)\(/.test(trimmed)) {
    return null;
  }

  return trimmed;
}
