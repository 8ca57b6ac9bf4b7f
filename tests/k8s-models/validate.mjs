// Validates the Argo CD and Flux objects of YAML files with the models of @kubernetes-models
// (argo-cd, flux-cd): each object whose apiVersion and kind has a model is checked with the
// model's validate(), the JSON Schema of its CRD. Objects of other kinds are reported as skipped,
// never as valid. Prints one JSON document: {"objects": [{file, index, apiVersion, kind, name,
// status: "valid" | "invalid" | "skipped", message?}]}; exits 1 when an object is invalid, 2 when
// a file cannot be read or is not YAML.
//
//     node validate.mjs FILE...
import { readFileSync } from "node:fs";
import * as argoCd from "@kubernetes-models/argo-cd";
import * as fluxCd from "@kubernetes-models/flux-cd";
import { parseAllDocuments } from "yaml";

// Every model class the packages export, by "apiVersion/kind"; the packages nest them in
// namespaces by group and version (argoCd.argoprojIo.v1alpha1.Application).
function models(namespaces) {
  const found = new Map();
  const seen = new Set();
  const visit = (value) => {
    if (value === null || (typeof value !== "object" && typeof value !== "function") || seen.has(value)) {
      return;
    }
    seen.add(value);
    if (typeof value === "function") {
      if (typeof value.apiVersion === "string" && typeof value.kind === "string") {
        found.set(`${value.apiVersion}/${value.kind}`, value);
      }
      return;
    }
    Object.values(value).forEach(visit);
  };
  namespaces.forEach(visit);
  return found;
}

const known = models([argoCd, fluxCd]);
const objects = [];
let unreadable = false;
for (const file of process.argv.slice(2)) {
  let documents;
  try {
    documents = parseAllDocuments(readFileSync(file, "utf8"));
  } catch (error) {
    console.error(`${file}: ${error.message}`);
    unreadable = true;
    continue;
  }
  documents.forEach((document, index) => {
    if (document.errors.length > 0) {
      console.error(`${file}: document ${index + 1}: ${document.errors[0].message}`);
      unreadable = true;
      return;
    }
    const data = document.toJS();
    if (data === null || data === undefined) {
      return;
    }
    const entry = { file, index, apiVersion: data.apiVersion, kind: data.kind, name: data.metadata?.name };
    const Model = known.get(`${data.apiVersion}/${data.kind}`);
    if (Model === undefined) {
      objects.push({ ...entry, status: "skipped" });
      return;
    }
    try {
      new Model(data).validate();
      objects.push({ ...entry, status: "valid" });
    } catch (error) {
      objects.push({ ...entry, status: "invalid", message: error.message });
    }
  });
}
console.log(JSON.stringify({ objects }, null, 2));
process.exitCode = unreadable ? 2 : objects.some((entry) => entry.status === "invalid") ? 1 : 0;
