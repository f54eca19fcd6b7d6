#!/usr/bin/env python3
"""Converts docs/openapi.yaml to JSON and writes it as a C++ source defining
tenant::api::openapi_json(), so the served document is never a hand-maintained copy.

usage: embed.py <openapi.yaml> <out.cpp>
"""
import json
import sys

import yaml


class Loader(yaml.SafeLoader):
    """YAML 1.1 without timestamps: example dates stay strings, as JSON needs them."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

DELIM = "oapi"


def main() -> int:
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        doc = yaml.load(f, Loader=Loader)
    if not isinstance(doc, dict) or "openapi" not in doc or "paths" not in doc:
        print(f"{src}: not an OpenAPI document", file=sys.stderr)
        return 1
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    if f'){DELIM}"' in text:
        print(f"{src}: contains the raw-string delimiter", file=sys.stderr)
        return 1
    # Raw string literals are split into pieces well below compiler limits on one token.
    pieces = [text[i:i + 16000] for i in range(0, len(text), 16000)]
    body = "\n".join(f'R"{DELIM}({p}){DELIM}"' for p in pieces)
    cpp = (
        "// Generated from docs/openapi.yaml by api/openapi/embed.py. Do not edit.\n"
        "#include <string_view>\n\n"
        "namespace tenant::api {\n\n"
        "std::string_view openapi_json() {\n"
        f"  static constexpr char text[] =\n{body};\n"
        "  return {text, sizeof text - 1};\n"
        "}\n\n"
        "}  // namespace tenant::api\n"
    )
    with open(out, "w", encoding="utf-8") as f:
        f.write(cpp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
