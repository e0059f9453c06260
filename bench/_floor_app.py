"""The floor under the upload endpoint, for ``bench_upload.py --variants floor``: the same server,
framework and multipart parsing as ``api.app`` (FastAPI ``list[UploadFile]``, read into bytes in
the threadpool) and nothing else: no key check, database, hashing, file store or queue. What a real
upload costs beyond this is ours.

(No ``from __future__ import annotations`` here: FastAPI must see the route's real types.)"""

import uuid
from typing import Annotated

from fastapi import FastAPI, File, UploadFile
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/applications", status_code=201)
def create() -> dict[str, str]:
    return {"id": uuid.uuid4().hex}


@app.post("/v1/applications/{application_id}/documents")
def upload(application_id: str, files: Annotated[list[UploadFile], File()]) -> JSONResponse:
    sizes = [len(f.file.read()) for f in files]
    return JSONResponse(
        {"documents": [{"id": uuid.uuid4().hex, "size_bytes": n} for n in sizes]}, status_code=201
    )
