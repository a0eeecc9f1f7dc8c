#!/usr/bin/env python3
"""Validates JSON produced by the typed ACP encoders against the ACP v1 JSON Schema.

Runs the sample generator (tests/protocol/schema/samples_main.cpp), which prints one line
{"def": "<$defs name>", "value": <encoded typed value>} per sample, and validates each value
against its `$defs` entry with a Draft 2020-12 validator. Fails (exit 1) on any validation
error, naming the definition, and when a params/result definition of a stable method
(v1/meta.json, matched by x-method) has no sample.

usage: schema_check.py --samples <generator executable> --schema-dir <acp-schema directory>
"""
import argparse
import json
import subprocess
import sys

from jsonschema import Draft202012Validator

BASE_URI = "https://agentclientprotocol.com/schema/v1/schema.json"


def make_validator_factory(schema):
    """Returns def name -> validator, resolving `#/$defs/...` against the whole schema."""
    try:  # jsonschema >= 4.18
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        registry = Registry().with_resource(
            BASE_URI, Resource.from_contents(schema, default_specification=DRAFT202012))

        def factory(name):
            return Draft202012Validator({"$ref": f"{BASE_URI}#/$defs/{name}"}, registry=registry)
    except ImportError:  # older jsonschema (Debian 12): RefResolver
        from jsonschema import RefResolver

        resolver = RefResolver(BASE_URI, schema)

        def factory(name):
            return Draft202012Validator({"$ref": f"{BASE_URI}#/$defs/{name}"}, resolver=resolver)
    return factory


def declared_names(node, names):
    """Every member name declared in any `properties` of the schema."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            names.update(props.keys())
        for v in node.values():
            declared_names(v, names)
    elif isinstance(node, list):
        for v in node:
            declared_names(v, names)
    return names


FREE_FORM = {"_meta", "rawInput", "rawOutput"}


def undeclared_members(v, known, path, out, is_map=False):
    """Members the schema declares nowhere: the schema allows them, but in a sample made only of
    typed members they reveal a misspelt JSON name in the encoder."""
    if isinstance(v, dict):
        for k, x in v.items():
            if not is_map and k not in known:
                out.append("/".join(path + [k]))
            if k in FREE_FORM:
                continue
            # string-keyed maps: AuthMethodTerminal.env, ElicitationSchema.properties,
            # ElicitationAcceptAction.content (a content *block* has a `type`)
            child_is_map = isinstance(x, dict) and (
                k in ("env", "properties") or (k == "content" and "type" not in x))
            undeclared_members(x, known, path + [k], out, child_is_map)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            undeclared_members(x, known, path + [str(i)], out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", required=True, help="sample generator executable")
    ap.add_argument("--schema-dir", required=True, help="directory holding v1/schema.json")
    args = ap.parse_args()

    with open(f"{args.schema_dir}/v1/schema.json", encoding="utf-8") as f:
        schema = json.load(f)
    with open(f"{args.schema_dir}/v1/meta.json", encoding="utf-8") as f:
        meta = json.load(f)
    defs = schema["$defs"]
    validator_for = make_validator_factory(schema)
    known = declared_names(schema, set())

    run = subprocess.run([args.samples], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        print(f"sample generator failed ({run.returncode}):\n{run.stderr}", file=sys.stderr)
        return 1

    failures = []
    covered = set()
    count = 0
    for lineno, line in enumerate(run.stdout.splitlines(), 1):
        if not line.strip():
            continue
        sample = json.loads(line)
        name = sample["def"]
        count += 1
        if name not in defs:
            failures.append(f"line {lineno}: {name}: no such $defs entry")
            continue
        errors = sorted(validator_for(name).iter_errors(sample["value"]), key=lambda e: list(e.path))
        for e in errors:
            where = "/".join(str(p) for p in e.absolute_path) or "<root>"
            failures.append(f"{name} (sample line {lineno}) at {where}: {e.message}")
        undeclared = []
        undeclared_members(sample["value"], known, [], undeclared)
        for where in undeclared:
            failures.append(f"{name} (sample line {lineno}): member {where} is declared nowhere in the schema")
        covered.add(name)

    stable = {m for group in ("agentMethods", "clientMethods", "protocolMethods")
              for m in meta.get(group, {}).values()}
    for name, d in sorted(defs.items()):
        if d.get("x-method") in stable and name not in covered:
            failures.append(f"{name} ({d['x-method']}): no sample")

    for f in failures:
        print(f, file=sys.stderr)
    print(f"{count} samples, {len(covered)} definitions, {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
