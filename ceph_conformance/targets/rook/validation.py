"""Validation of the documents the Rook layer applies, before any API server sees them.

Built-in kinds: kubernetes-validate's strict schemas of a Kubernetes version. Custom resources:
the openAPIV3Schema of the release's CRDs, made strict the way the API server's strict field
validation is (an unknown field is an error, not silently pruned).
"""

import copy
import functools

import jsonschema

BUILTIN_GROUPS = ("v1", "apps/v1", "storage.k8s.io/v1", "rbac.authorization.k8s.io/v1",
                  "apiextensions.k8s.io/v1", "batch/v1", "policy/v1", "admissionregistration.k8s.io/v1")


class InvalidManifest(ValueError):
    """A document fails its schema: names the document and the field."""


def is_builtin(doc):
    return doc.get("apiVersion") in BUILTIN_GROUPS


def _describe(doc):
    meta = doc.get("metadata", {})
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{doc.get('kind')} {where}{meta.get('name')}"


def validate_builtin(doc, kubernetes_version):
    """Raise InvalidManifest if doc is not valid for that Kubernetes version (strict: no unknown fields)."""
    kubernetes_validate = _kubernetes_validate()
    try:
        kubernetes_validate.validate(doc, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "(top)"
        raise InvalidManifest(f"{_describe(doc)} (Kubernetes {kubernetes_version}): {path}: {exc.message}") from None
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise InvalidManifest(f"{_describe(doc)}: {exc.message}") from None


@functools.cache
def _kubernetes_validate():
    import kubernetes_validate  # a test dependency: only validation needs it
    import kubernetes_validate.utils

    # It parses its schema files (the definitions are megabytes) again for every document; they are
    # read-only to it, so each is parsed once per process here.
    kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)
    return kubernetes_validate


def strict_schema(schema):
    """A JSON Schema from a CRD's structural openAPIV3Schema: unknown fields rejected where the
    schema does not preserve them, int-or-string and nullable spelt the JSON Schema way."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if not isinstance(node, dict):
            return
        if node.pop("x-kubernetes-int-or-string", False):
            node.pop("type", None)
            node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        preserve = node.pop("x-kubernetes-preserve-unknown-fields", False)
        if "properties" in node and "additionalProperties" not in node and not preserve:
            node["additionalProperties"] = False
        for key in ("properties", "patternProperties"):
            for child in node.get(key, {}).values():
                walk(child)
        for key in ("items", "additionalProperties", "not"):
            walk(node.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for child in node.get(key, []):
                walk(child)

    walk(schema)
    # The API server validates apiVersion, kind and metadata itself, whatever the CRD's schema says.
    schema.setdefault("properties", {}).update(apiVersion={"type": "string"}, kind={"type": "string"},
                                               metadata={"type": "object"})
    return schema


_VALIDATORS = {}  # id(schema) -> (schema, validator): the schema held, so its id stays its own


def _validator(schema):
    """One validator per CRD schema (the CephCluster's is large to convert)."""
    held = _VALIDATORS.get(id(schema))
    if held is None or held[0] is not schema:
        held = _VALIDATORS[id(schema)] = (schema, jsonschema.Draft7Validator(strict_schema(schema)))
    return held[1]


def validate_custom(doc, schemas):
    """Raise InvalidManifest if doc is not valid under its CRD's schema (schemas: Release.crd_schemas())."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in schemas:
        raise InvalidManifest(f"{_describe(doc)}: no CRD for {key[0]} {key[1]} in the Rook release")
    validator = _validator(schemas[key])
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        path = ".".join(str(p) for p in first.path) or "(top)"
        raise InvalidManifest(f"{_describe(doc)}: {path}: {first.message}"
                              + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))


def validate(doc, kubernetes_version, schemas):
    if is_builtin(doc):
        validate_builtin(doc, kubernetes_version)
    else:
        validate_custom(doc, schemas)
