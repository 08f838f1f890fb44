"""A small API for the contract probe's own tests, with one planted defect per variant. Never
shipped: the tests start it on a free loopback port, in a thread of their own process, and read
its log of the requests it got.

Healthy, every operation answers as its OpenAPI document says. Each defect breaks one thing
for item ids over 500 (so Hypothesis has something to shrink, to 501):

- ``server_error``: an unhandled exception, a 500;
- ``wrong_type``: ``price`` as a string where the document says number;
- ``undocumented_status``: a 418 the document does not list;
- ``open_secret``: the report documented as needing a bearer token answers without one;
- ``slow``: the item answers after 1.2 s.

Variant ``expiring`` is healthy, but each token from ``POST /login`` expires after
``TOKEN_USES`` requests.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from opsproof.support.ports import LOOPBACK, free_ports

TOKEN = "tok-4d1b-contract-secret"
PASSWORD = "pw-for-the-login-step"
DEFECTS = ("server_error", "wrong_type", "undocumented_status", "open_secret", "slow")
SLOW_S = 1.2
TOKEN_USES = 6
"""Variant ``expiring`` (not a defect): each login's token serves this many requests."""


class Item(BaseModel):
    id: int
    name: str
    price: float


class Login(BaseModel):
    user: str
    password: str


class NotFound(BaseModel):
    error: str


bearer = HTTPBearer(auto_error=False)
NOT_JSON: dict[int | str, dict[str, object]] = {400: {"description": "The body is not JSON"}}


def create_app(defect: str | None = None) -> FastAPI:
    app = FastAPI(title="contract test API", version="1")
    calls: list[str] = []
    app.state.calls = calls

    @app.middleware("http")
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        query = f"?{request.url.query}" if request.url.query else ""
        calls.append(f"{request.method} {request.url.path}{query}")
        return await call_next(request)

    @app.get("/items/{item_id}", response_model=Item,
             responses={404: {"model": NotFound, "description": "No such item"}})  # fmt: skip
    def get_item(item_id: Annotated[int, Path(ge=0, le=1000)]) -> object:
        if item_id > 500:
            if defect == "server_error":
                raise RuntimeError("planted: items over 500 crash")
            if defect == "wrong_type":
                return JSONResponse({"id": item_id, "name": "widget", "price": "9.99"})
            if defect == "undocumented_status":
                return JSONResponse({"error": "teapot"}, status_code=418)
            if defect == "slow":
                time.sleep(SLOW_S)
        if item_id == 404:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Item(id=item_id, name="widget", price=9.99)

    @app.get("/search", response_model=list[Item])
    def search(
        q: Annotated[str, Query(max_length=50)],
        limit: Annotated[int, Query(ge=1, le=20)] = 5,
    ) -> list[Item]:
        return [Item(id=n, name=q, price=1.0) for n in range(limit)]

    # FastAPI answers 400 to a body that is not JSON at all, and does not say so in the document
    @app.post("/items", status_code=201, response_model=Item, responses=NOT_JSON)
    def create_item(item: Item) -> Item:
        return item

    token = {"value": TOKEN, "issued": 0, "uses": 0}

    @app.post("/login")
    def login(body: Login) -> dict[str, str]:
        if body.password != PASSWORD:
            raise HTTPException(403, "wrong password")
        if defect == "expiring":
            token["issued"] += 1
            token.update(value=f"{TOKEN}-{token['issued']}", uses=0)
        return {"access_token": str(token["value"]), "token_type": "bearer"}

    def authorized(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if defect == "open_secret":
            return
        if credentials is None or credentials.credentials != token["value"]:
            raise HTTPException(401, "a bearer token is needed")
        token["uses"] += 1
        if defect == "expiring" and token["uses"] > TOKEN_USES:
            raise HTTPException(401, "the token expired")

    @app.get("/private/report", dependencies=[Depends(authorized)],
             responses={401: {"description": "No or a wrong token"}})  # fmt: skip
    def report() -> dict[str, int]:
        return {"orders": 3}

    return app


@contextmanager
def serving(defect: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """The app on a free port: its URL and its log of requests (``GET /search?q=a``)."""
    app = create_app(defect)
    [port] = free_ports(1)
    config = uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"defect-app-{defect}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test API did not start")
        time.sleep(0.01)
    try:
        yield f"http://{LOOPBACK}:{port}", app.state.calls
    finally:
        server.should_exit = True
        thread.join(timeout=10)
