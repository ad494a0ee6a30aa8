// Checks a rendered kustomization (kubectl kustomize output) against the
// deployment contract of the guard. The checks cover the placement of the
// guard container, its arguments, ports, probes, resources and security
// context, and the listener addresses in its ConfigMap. They also cover the
// drain budget against the grace period, and the ports that the Service and
// the PodMonitor reach.
//
// Usage: node check-pod-policy.mjs RENDERED.yaml native|classic
// Prints one line per check and exits 1 if any fails.

import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const GUARD = "connleakguard";
const CONFIG_PATH = "/etc/connleakguard/appsettings.json";
// Seconds between the end of DrainTimeout and the SIGKILL at the end of the
// grace period, for the process to exit after draining.
const MIN_SHUTDOWN_MARGIN_SECONDS = 3;

const [renderedFile, mode] = process.argv.slice(2);
if (!renderedFile || !["native", "classic"].includes(mode)) {
  console.error("usage: node check-pod-policy.mjs RENDERED.yaml native|classic");
  process.exit(2);
}

let failed = false;
function check(condition, description, detail = "") {
  if (condition) {
    console.log(`ok   ${description}`);
    return;
  }

  failed = true;
  console.log(`FAIL ${description}${detail ? `: ${detail}` : ""}`);
}

/** Parses a guard duration ("500ms", "5s", "2m", "1h", "00:00:30") into seconds. */
export function durationSeconds(text) {
  const units = { ms: 0.001, s: 1, m: 60, h: 3600 };
  const suffixed = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(text));
  if (suffixed) {
    return Number(suffixed[1]) * units[suffixed[2]];
  }

  const timeSpan = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(String(text));
  if (timeSpan) {
    const [, days = "0", hours, minutes, seconds] = timeSpan;
    return Number(days) * 86400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  }

  throw new Error(`invalid duration ${JSON.stringify(text)}`);
}

function portOf(url) {
  return Number(new URL(url).port);
}

const objects = parseAllDocuments(readFileSync(renderedFile, "utf8"))
  .map((document) => document.toJSON())
  .filter((object) => object !== null);
const byKind = (kind) => objects.filter((object) => object.kind === kind);

const deployments = byKind("Deployment");
check(deployments.length === 1, "exactly one Deployment", `found ${deployments.length}`);
const deployment = deployments[0] ?? {};
const pod = deployment.spec?.template?.spec ?? {};
const podLabels = deployment.spec?.template?.metadata?.labels ?? {};

// Placement of the guard: init container or ordinary container.
const initGuard = (pod.initContainers ?? []).find((container) => container.name === GUARD);
const mainGuard = (pod.containers ?? []).find((container) => container.name === GUARD);
if (mode === "native") {
  check(initGuard?.restartPolicy === "Always", "guard is a native sidecar (init container, restartPolicy Always)");
  check(!mainGuard, "guard is not also an ordinary container");
} else {
  check(mainGuard !== undefined && mainGuard.restartPolicy === undefined, "guard is an ordinary container");
  check(!initGuard, "guard is not also an init container");
}

const guard = initGuard ?? mainGuard ?? {};
const appContainers = (pod.containers ?? []).filter((container) => container.name !== GUARD);
check(appContainers.length >= 1, "an application container runs beside the guard");

check(
  JSON.stringify(guard.args) === JSON.stringify(["--config", CONFIG_PATH]),
  `guard args are --config ${CONFIG_PATH}`,
  JSON.stringify(guard.args),
);

const configMount = (guard.volumeMounts ?? []).find((mount) => CONFIG_PATH.startsWith(`${mount.mountPath}/`));
check(configMount?.readOnly === true, "configuration directory is mounted read-only");

// Ports.
const ports = Object.fromEntries((guard.ports ?? []).map((port) => [port.name, port.containerPort]));
check(ports.http !== undefined && ports.admin !== undefined, "guard declares ports http and admin", JSON.stringify(ports));

// Probes on the admin port.
function probeTarget(probe) {
  const port = probe?.httpGet?.port;
  return { path: probe?.httpGet?.path, port: typeof port === "string" ? ports[port] : port };
}

const readiness = probeTarget(guard.readinessProbe);
check(readiness.path === "/healthz/ready" && readiness.port === ports.admin, "readiness probe is /healthz/ready on the admin port", JSON.stringify(readiness));
const liveness = probeTarget(guard.livenessProbe);
check(liveness.path === "/healthz/live" && liveness.port === ports.admin, "liveness probe is /healthz/live on the admin port", JSON.stringify(liveness));

// Resources and security context, for every container of the pod.
const podSecurity = pod.securityContext ?? {};
for (const container of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
  const name = container.name;
  const resources = container.resources ?? {};
  check(
    resources.requests?.cpu && resources.requests?.memory && resources.limits?.memory && resources.limits?.cpu,
    `${name}: CPU and memory requests and limits are set`,
  );

  const security = container.securityContext ?? {};
  check((security.runAsNonRoot ?? podSecurity.runAsNonRoot) === true, `${name}: runAsNonRoot`);
  check(security.readOnlyRootFilesystem === true, `${name}: readOnlyRootFilesystem`);
  check(security.allowPrivilegeEscalation === false, `${name}: allowPrivilegeEscalation false`);
  check((security.capabilities?.drop ?? []).includes("ALL"), `${name}: drops ALL capabilities`);
  check(
    (security.seccompProfile?.type ?? podSecurity.seccompProfile?.type) === "RuntimeDefault",
    `${name}: seccomp profile RuntimeDefault`,
  );
}

// The ConfigMap the guard reads.
const configVolumeName = configMount?.name;
const configMapName = (pod.volumes ?? []).find((volume) => volume.name === configVolumeName)?.configMap?.name;
const configMap = byKind("ConfigMap").find((object) => object.metadata?.name === configMapName);
check(configMap?.data?.["appsettings.json"] !== undefined, "configuration volume refers to a ConfigMap with appsettings.json", configMapName);

let settings = {};
try {
  settings = JSON.parse(configMap?.data?.["appsettings.json"] ?? "{}");
} catch (error) {
  check(false, "appsettings.json in the ConfigMap is valid JSON", error.message);
}

const guardSettings = settings.ConnLeakGuard ?? {};
const inboundUrl = guardSettings.Inbound?.Urls ?? "";
const adminUrl = guardSettings.Admin?.Urls ?? "";
check(/^http:\/\/(0\.0\.0\.0|\[::\]|\*|\+):\d+$/.test(inboundUrl), "inbound listener binds all interfaces", inboundUrl);
check(/^http:\/\/(0\.0\.0\.0|\[::\]|\*|\+):\d+$/.test(adminUrl), "admin listener binds all interfaces", adminUrl);
check(inboundUrl !== "" && portOf(inboundUrl.replace(/\/\/[*+]/, "//0.0.0.0")) === ports.http, "inbound listener port is the container's http port", `${inboundUrl} vs ${ports.http}`);
check(adminUrl !== "" && portOf(adminUrl.replace(/\/\/[*+]/, "//0.0.0.0")) === ports.admin, "admin listener port is the container's admin port", `${adminUrl} vs ${ports.admin}`);

const destinations = Object.values(settings.ReverseProxy?.Clusters ?? {})
  .flatMap((cluster) => Object.values(cluster.Destinations ?? {}))
  .map((destination) => destination.Address);
check(
  destinations.length > 0 && destinations.every((address) => /^https?:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?\/?$/.test(address)),
  "upstream destinations are the app on loopback",
  destinations.join(", "),
);

// Drain budget. In the native form the app stops first, so its shutdown also
// spends grace period. docs/kubernetes.md explains both forms.
try {
  const drainDelay = durationSeconds(guardSettings.Shutdown?.DrainDelay);
  const drainTimeout = durationSeconds(guardSettings.Shutdown?.DrainTimeout);
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  check(
    drainDelay + drainTimeout + MIN_SHUTDOWN_MARGIN_SECONDS <= grace,
    `DrainDelay + DrainTimeout + ${MIN_SHUTDOWN_MARGIN_SECONDS}s fits terminationGracePeriodSeconds`,
    `${drainDelay}s + ${drainTimeout}s + ${MIN_SHUTDOWN_MARGIN_SECONDS}s > ${grace}s`,
  );
} catch (error) {
  check(false, "Shutdown:DrainDelay and Shutdown:DrainTimeout are valid durations", error.message);
}

// Service and PodMonitor.
function selects(selector) {
  return Object.entries(selector ?? {}).every(([key, value]) => podLabels[key] === value)
    && Object.keys(selector ?? {}).length > 0;
}

const services = byKind("Service");
check(services.length > 0, "a Service exists");
for (const service of services) {
  check(selects(service.spec?.selector), `Service ${service.metadata.name} selects the pod`);
  for (const port of service.spec?.ports ?? []) {
    const target = typeof port.targetPort === "string" ? ports[port.targetPort] : port.targetPort;
    check(target === ports.http, `Service ${service.metadata.name} port ${port.port} targets the guard's http port`, String(port.targetPort));
  }
}

const podMonitors = byKind("PodMonitor");
check(podMonitors.length > 0, "a PodMonitor exists");
for (const monitor of podMonitors) {
  check(selects(monitor.spec?.selector?.matchLabels), `PodMonitor ${monitor.metadata.name} selects the pod`);
  for (const endpoint of monitor.spec?.podMetricsEndpoints ?? []) {
    check(
      endpoint.port === "admin" && endpoint.path === "/metrics",
      `PodMonitor ${monitor.metadata.name} scrapes port admin path /metrics`,
      `${endpoint.port} ${endpoint.path}`,
    );
  }
}

process.exitCode = failed ? 1 : 0;
