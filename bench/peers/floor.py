"""The framework floor of `make bench-service`: the service's own stack (FastAPI on uvicorn,
launched the same way) with one route that parses the JSON body and answers a constant. No
route of the service can be faster than this on the same machine (issue 20)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.post("/floor")
def floor(body: dict[str, Any]) -> dict[str, str]:
    """Parse the body (as every service route does), answer a constant."""
    return {"status": "ok"}
