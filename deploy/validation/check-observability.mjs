// Checks the alert rules and the Grafana dashboard against the guard's
// exported metric names and against the deployment they describe.
//
// Subcommands (each prints one line per finding and exits 1 on failure):
//   dashboard DASHBOARD.json OUT.rules.yaml
//       Checks the dashboard's structure and writes every PromQL expression
//       in it (panel targets and variable queries) as recording rules, so
//       that promtool can check their syntax.
//   names EXPORTED.txt RULES.yaml DASHBOARD.json
//       Fails on any metric name that an expression selects and EXPORTED.txt
//       does not list.
//   thresholds RULES.yaml APPSETTINGS.json RENDERED.yaml
//       Fails when an alert's threshold no longer matches the setting or
//       container limit it repeats.

import { readFileSync, writeFileSync } from "node:fs";
import { parse, parseAllDocuments, stringify } from "yaml";
import { extractMetricNames, promqlOfVariableQuery, stripGrafanaVariables } from "./promql-names.mjs";

let failed = false;

function fail(message) {
  failed = true;
  console.log(`FAIL ${message}`);
}

function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

// Yields every panel, including panels nested in collapsed rows.
function* allPanels(panels) {
  for (const panel of panels ?? []) {
    yield panel;
    yield* allPanels(panel.panels);
  }
}

/** Returns [{ source, expr }] for every PromQL expression in a dashboard. */
function dashboardExpressions(dashboard) {
  const expressions = [];

  for (const panel of allPanels(dashboard.panels)) {
    for (const target of panel.targets ?? []) {
      if (typeof target.expr === "string" && target.expr.trim() !== "") {
        expressions.push({
          source: `panel "${panel.title}" target ${target.refId}`,
          record: `dashboard_panel_${panel.id}_${target.refId}`,
          expr: target.expr,
        });
      }
    }
  }

  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== "query") {
      continue;
    }

    const query = typeof variable.query === "string" ? variable.query : variable.query?.query;
    const expr = query ? promqlOfVariableQuery(query) : null;
    if (expr) {
      expressions.push({ source: `variable "${variable.name}"`, record: `dashboard_variable_${variable.name}`, expr });
    }
  }

  return expressions;
}

/** Returns [{ source, expr }] for every rule in a Prometheus rule file. */
function ruleExpressions(rules) {
  const expressions = [];
  for (const group of rules.groups ?? []) {
    for (const rule of group.rules ?? []) {
      const name = rule.alert ?? rule.record;
      expressions.push({ source: `rule ${name}`, expr: String(rule.expr) });
    }
  }

  return expressions;
}

function checkDashboard(dashboardFile, rulesOutFile) {
  let dashboard;
  try {
    dashboard = readJson(dashboardFile);
  } catch (error) {
    fail(`${dashboardFile} is not valid JSON: ${error.message}`);
    return;
  }

  const ids = new Set();
  for (const panel of allPanels(dashboard.panels)) {
    if (ids.has(panel.id)) {
      fail(`panel id ${panel.id} ("${panel.title}") is used twice`);
    }

    ids.add(panel.id);
    if (!panel.gridPos) {
      fail(`panel "${panel.title}" has no gridPos`);
    }

    if (panel.type !== "row" && (panel.targets ?? []).length === 0) {
      fail(`panel "${panel.title}" has no query`);
    }
  }

  const variables = new Set((dashboard.templating?.list ?? []).map((variable) => variable.name));
  const builtIn = new Set(["__rate_interval", "__interval", "__range", "__interval_ms", "__range_s"]);
  const expressions = dashboardExpressions(dashboard);
  for (const { source, expr } of expressions) {
    for (const match of expr.matchAll(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)/g)) {
      if (!variables.has(match[1]) && !builtIn.has(match[1])) {
        fail(`${source} uses the undefined variable $${match[1]}`);
      }
    }
  }

  // Grafana replaces its variables before the query reaches Prometheus.
  // Durations get a fixed value; label values become a regex that matches
  // anything, so the result parses the way the real query does.
  // Record names carry the panel id and query refId, so that a promtool
  // error points at the panel.
  const rules = expressions.map(({ record, expr }) => ({
    record,
    expr: expr
      .replace(/\$\{?__rate_interval\}?/g, "5m")
      .replace(/\$\{?__interval\}?/g, "1m")
      .replace(/\$\{?__range\}?/g, "1h")
      .replace(/\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?/g, ".*"),
  }));
  writeFileSync(rulesOutFile, stringify({ groups: [{ name: "dashboard", rules }] }));

  if (!failed) {
    console.log(`ok   ${dashboardFile}: ${ids.size} panels, ${expressions.length} expressions`);
  }
}

function readExportedNames(file) {
  return new Set(
    readFileSync(file, "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#")),
  );
}

function checkNames(exportedFile, rulesFile, dashboardFile) {
  const exported = readExportedNames(exportedFile);
  const sources = [
    [rulesFile, ruleExpressions(parse(readFileSync(rulesFile, "utf8")))],
    [dashboardFile, dashboardExpressions(readJson(dashboardFile))],
  ];

  for (const [file, expressions] of sources) {
    const used = new Set();
    const problems = [];
    for (const { source, expr } of expressions) {
      const extracted = extractMetricNames(expr);
      problems.push(...extracted.problems.map((problem) => `${file} ${source}: ${problem}`));

      if (extracted.names.size === 0) {
        problems.push(`${file} ${source}: selects no metric`);
      }

      for (const name of extracted.names) {
        used.add(name);
        if (!exported.has(name)) {
          problems.push(`${file} ${source}: ${name} is not in ${exportedFile}`);
        }
      }
    }

    if (expressions.length === 0) {
      problems.push(`${file}: no expressions found`);
    }

    problems.forEach(fail);
    if (problems.length === 0) {
      console.log(`ok   ${file}: ${expressions.length} expressions, ${used.size} metric names`);
    }
  }
}

// Parses a Kubernetes quantity such as 256Mi or 1G into bytes.
function quantityToBytes(quantity) {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (!match) {
    throw new Error(`unsupported memory quantity ${quantity}`);
  }

  const factors = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(match[1]) * (match[2] ? factors[match[2]] : 1);
}

function checkThresholds(rulesFile, appsettingsFile, renderedFile) {
  const settings = readJson(appsettingsFile).ConnLeakGuard;
  const deployment = parseAllDocuments(readFileSync(renderedFile, "utf8"))
    .map((document) => document.toJSON())
    .find((object) => object?.kind === "Deployment");
  const podSpec = deployment?.spec?.template?.spec ?? {};
  const guard = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]
    .find((container) => container.name === "connleakguard");
  if (!guard) {
    fail(`${renderedFile}: no container named connleakguard`);
    return;
  }

  const expected = new Map([
    ["ConnLeakGuardInboundConnectionsNearCap",
      ["ConnLeakGuard:Inbound:MaxConcurrentConnections", settings.Inbound.MaxConcurrentConnections]],
    ["ConnLeakGuardOutboundConnectionsAtCap",
      ["ConnLeakGuard:Outbound:MaxConnectionsPerHost", settings.Outbound.MaxConnectionsPerHost]],
    ["ConnLeakGuardMemoryNearLimit",
      ["the connleakguard container's memory limit", quantityToBytes(guard.resources?.limits?.memory)]],
  ]);

  const rules = ruleExpressions(parse(readFileSync(rulesFile, "utf8")));
  for (const [alert, [setting, value]] of expected) {
    const rule = rules.find(({ source }) => source === `rule ${alert}`);
    if (!rule) {
      fail(`${rulesFile}: alert ${alert} not found`);
      continue;
    }

    // Compare against the numeric literals of the expression, ignoring
    // durations and label values.
    const literals = stripGrafanaVariables(rule.expr)
      .replace(/"[^"]*"/g, "")
      .replace(/\[[^\]]*\]/g, "")
      .match(/(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g) ?? [];
    if (literals.map(Number).includes(Number(value))) {
      console.log(`ok   ${alert} uses ${value}, the value of ${setting}`);
    } else {
      fail(`${alert} does not use ${value}, the value of ${setting}; it uses ${literals.join(", ")}`);
    }
  }
}

const [command, ...args] = process.argv.slice(2);
const commands = {
  dashboard: [2, checkDashboard],
  names: [3, checkNames],
  thresholds: [3, checkThresholds],
};

if (!commands[command] || commands[command][0] !== args.length) {
  console.error("usage: node check-observability.mjs dashboard DASHBOARD.json OUT.rules.yaml");
  console.error("       node check-observability.mjs names EXPORTED.txt RULES.yaml DASHBOARD.json");
  console.error("       node check-observability.mjs thresholds RULES.yaml APPSETTINGS.json RENDERED.yaml");
  process.exit(2);
}

commands[command][1](...args);
process.exitCode = failed ? 1 : 0;
