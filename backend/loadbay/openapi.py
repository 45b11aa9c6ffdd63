"""Write the OpenAPI contract (``python -m loadbay.openapi > openapi.yaml``)."""

import sys
from typing import Any

import yaml

from loadbay.config import Settings
from loadbay.main import create_app


def contract() -> dict[str, Any]:
    app = create_app(Settings(static_dir=None), engine=object())
    return app.openapi()


def render() -> str:
    return yaml.safe_dump(contract(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
