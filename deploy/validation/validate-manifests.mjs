// Validates rendered Kubernetes manifests offline, in two passes:
//  1. Each object against the JSON schema of its kind, generated from the
//     Kubernetes OpenAPI document (npm kubernetes-models 5.1.0, Kubernetes 1.34;
//     PodMonitor from @kubernetes-models/prometheus-operator, generated from
//     the operator's CRD). This pass checks types, enums, formats and
//     required fields, but accepts unknown fields.
//  2. The TypeScript compiler, with the same packages' type declarations, for
//     unknown fields: an object literal with a property its type does not
//     declare is a compile error, so a misspelt field fails here.
//
// Usage: node validate-manifests.mjs FILE.yaml...
// Prints one line per object and exits 1 if any object is invalid.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const scriptDir = path.dirname(fileURLToPath(import.meta.url));

// Maps an apiVersion and kind to the module that contains the model. Core
// objects ("v1") are at the package root, other groups under "group/version".
function modelModule(apiVersion, kind) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }

  return `kubernetes-models/${apiVersion}/${kind}`;
}

// Writes value as indented JSON and records, for each output line, the path
// of the property that starts on it, so compiler errors can name a field.
function toJsonWithPaths(value, indent, currentPath, lines, paths) {
  const pad = "  ".repeat(indent);

  if (Array.isArray(value)) {
    lines[lines.length - 1] += "[";
    value.forEach((item, index) => {
      lines.push(pad + "  ");
      paths.push(`${currentPath}[${index}]`);
      toJsonWithPaths(item, indent + 1, `${currentPath}[${index}]`, lines, paths);
      if (index < value.length - 1) {
        lines[lines.length - 1] += ",";
      }
    });
    lines.push(pad + "]");
    paths.push(currentPath);
    return;
  }

  if (value !== null && typeof value === "object") {
    lines[lines.length - 1] += "{";
    const keys = Object.keys(value);
    keys.forEach((key, index) => {
      const childPath = currentPath ? `${currentPath}.${key}` : key;
      lines.push(`${pad}  ${JSON.stringify(key)}: `);
      paths.push(childPath);
      toJsonWithPaths(value[key], indent + 1, childPath, lines, paths);
      if (index < keys.length - 1) {
        lines[lines.length - 1] += ",";
      }
    });
    lines.push(pad + "}");
    paths.push(currentPath);
    return;
  }

  lines[lines.length - 1] += JSON.stringify(value);
}

function describe(object) {
  const name = object?.metadata?.name ?? "(no name)";
  return `${object?.kind ?? "(no kind)"}/${name}`;
}

// Labels of objects whose kind has no model. The type check skips them.
const unknownKinds = new Set();

async function validateSchemas(objects) {
  const failures = new Map();

  for (const { object, label } of objects) {
    const specifier = modelModule(object.apiVersion, object.kind);
    let model;
    try {
      model = await import(specifier);
    } catch {
      failures.set(label, [`no schema for apiVersion ${object.apiVersion} kind ${object.kind}`]);
      unknownKinds.add(label);
      continue;
    }

    const ModelClass = model[object.kind];
    try {
      new ModelClass(object).validate();
    } catch (error) {
      failures.set(label, [error.message]);
    }
  }

  return failures;
}

function checkUnknownFields(objects) {
  const require = createRequire(import.meta.url);
  const ts = require("typescript");
  const failures = new Map();

  // The generated file is written beside node_modules so that module
  // resolution finds the packages. It is removed afterwards.
  const workDir = mkdtempSync(path.join(scriptDir, ".typecheck-"));
  try {
    const lines = [];
    const paths = [];
    const owners = [];

    objects.forEach(({ object, label }, index) => {
      const specifier = modelModule(object.apiVersion, object.kind);
      const typeName = `I${object.kind}`;
      lines.push(`import type { ${typeName} as T${index} } from ${JSON.stringify(specifier)};`);
      paths.push("");
      owners.push(label);
    });

    objects.forEach(({ object, label }, index) => {
      lines.push(`export const object${index}: T${index} = `);
      paths.push("");
      toJsonWithPaths(object, 0, "", lines, paths);
      lines[lines.length - 1] += ";";
      while (owners.length < lines.length) {
        owners.push(label);
      }
    });

    const sourcePath = path.join(workDir, "objects.ts");
    writeFileSync(sourcePath, lines.join("\n") + "\n");

    const program = ts.createProgram([sourcePath], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    });

    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
      if (!diagnostic.file || diagnostic.start === undefined) {
        failures.set("(compiler)", [...(failures.get("(compiler)") ?? []), message]);
        continue;
      }

      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      const owner = owners[line] ?? "(unknown object)";
      const fieldPath = paths[line] ? ` at ${paths[line]}` : "";
      failures.set(owner, [...(failures.get(owner) ?? []), `${message}${fieldPath}`]);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  return failures;
}

async function main() {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: node validate-manifests.mjs FILE.yaml...");
    process.exit(2);
  }

  const objects = [];
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
      if (document.errors.length > 0) {
        console.log(`FAIL ${file}: invalid YAML: ${document.errors[0].message}`);
        process.exitCode = 1;
        continue;
      }

      const object = document.toJSON();
      if (object === null) {
        continue;
      }

      objects.push({ object, label: `${path.basename(file)} ${describe(object)}` });
    }
  }

  if (objects.length === 0) {
    console.log("FAIL no Kubernetes objects found in " + files.join(" "));
    process.exit(1);
  }

  const schemaFailures = await validateSchemas(objects);
  const fieldFailures = checkUnknownFields(objects.filter(({ label }) => !unknownKinds.has(label)));

  for (const { label } of objects) {
    const problems = [...(schemaFailures.get(label) ?? []), ...(fieldFailures.get(label) ?? [])];
    if (problems.length === 0) {
      console.log(`ok   ${label}`);
      continue;
    }

    process.exitCode = 1;
    for (const problem of problems) {
      console.log(`FAIL ${label}: ${problem}`);
    }
  }

  for (const problem of fieldFailures.get("(compiler)") ?? []) {
    process.exitCode = 1;
    console.log(`FAIL type check: ${problem}`);
  }
}

await main();
