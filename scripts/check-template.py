"""Checks template.yaml offline: cfn-lint on the SAM template, then cfn-lint again on the
CloudFormation that aws-sam-translator expands it into (cfn-lint alone misses broken references
inside SAM resources)."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The template names no AWS managed policies, so nothing needs looking up in IAM."""

    def load(self) -> dict:
        return {}


def lint(path: str) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), path], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"cfn-lint {path} failed:\n{result.stdout}{result.stderr}")


def main() -> None:
    template = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    lint(template)
    # The transform resolves pseudo parameters such as AWS::Region; any region does offline.
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    document = cfn_yaml.load(template)
    # `sam package` replaces local code paths by their S3 upload; stand in for it.
    for resource in document.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in properties:
            properties["CodeUri"] = "s3://packaged-code/function.zip"
    expanded = transform(document, {}, NoManagedPolicies())
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "expanded.json"
        out.write_text(json.dumps(expanded, indent=2, default=str))
        lint(str(out))
    print(f"{template}: cfn-lint clean, before and after the SAM transform")


if __name__ == "__main__":
    main()
