// Tests for promql-names.mjs. Run: node --test deploy/validation/promql-names.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";
import { extractMetricNames, promqlOfVariableQuery } from "./promql-names.mjs";

function names(expression) {
  return [...extractMetricNames(expression).names].sort();
}

test("aggregation with grouping labels", () => {
  assert.deepEqual(
    names('sum by (namespace, pod) (kestrel_active_connections{container="connleakguard"}) / 10000 > 0.8'),
    ["kestrel_active_connections"],
  );
});

test("functions, ranges and Grafana variables", () => {
  assert.deepEqual(
    names('histogram_quantile(0.99, sum by (le) (rate(wait_seconds_bucket{pod=~"$pod"}[$__rate_interval])))'),
    ["wait_seconds_bucket"],
  );
});

test("offset duration is not a name", () => {
  assert.deepEqual(names('reloads_total unless reloads_total offset 15m'), ["reloads_total"]);
});

test("vector matching label lists", () => {
  assert.deepEqual(names("left / on (pod) group_left (version) right"), ["left", "right"]);
  assert.deepEqual(names("left / ignoring (reason) group_right right"), ["left", "right"]);
});

test("strings are not names", () => {
  assert.deepEqual(names('label_replace(up, "destination", "$1", "source", "(.*)")'), ["up"]);
});

test("number literals are not names", () => {
  assert.deepEqual(names("requests_total * 1e3 + 0x1f - .5"), ["requests_total"]);
});

test("subquery and at modifier", () => {
  assert.deepEqual(names("max_over_time(rate(requests_total[5m])[1h:1m]) @ start()"), ["requests_total"]);
});

test("recording-rule names with colons", () => {
  assert.deepEqual(names("sum without (instance) (job:requests:rate5m)"), ["job:requests:rate5m"]);
});

test("set operators and bool", () => {
  assert.deepEqual(names("topk(5, first) and bool second"), ["first", "second"]);
});

test("__name__ equality matcher", () => {
  assert.deepEqual(names('{__name__="by_matcher", job="guard"}'), ["by_matcher"]);
});

test("__name__ regex matcher is a problem", () => {
  const result = extractMetricNames('{__name__=~"connleakguard_.*"}');
  assert.equal(result.names.size, 0);
  assert.equal(result.problems.length, 1);
});

test("variable query forms", () => {
  assert.equal(
    promqlOfVariableQuery('label_values(memory_bytes{namespace=~"$namespace"}, pod)'),
    'memory_bytes{namespace=~"$namespace"}',
  );
  assert.equal(promqlOfVariableQuery("label_values(namespace)"), null);
  assert.equal(promqlOfVariableQuery("query_result(topk(3, memory_bytes))"), "topk(3, memory_bytes)");
  assert.equal(promqlOfVariableQuery("label_names()"), null);
});
