"""Request bodies have an upper bound per URL, refused before a byte is read or spooled to disk."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from registry.labels import ern, services

MB = 2**20
BOUNDARY = "registry-test-boundary"
CSRF = "k" * 32  # a CSRF cookie anyone can get by loading a page


class WatchedBody:
    """A multipart body of any declared size, made as it is read; it notes how much the server
    read and whether anything appeared in the upload temp dir meanwhile."""

    def __init__(self, size: int, temp_dir: str, field: str = "file") -> None:
        self.head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size = size
        self.temp_dir = temp_dir
        self.read_bytes = 0
        self.seen_on_disk: set[str] = set()

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.read_bytes
        n = left if n is None or n < 0 else min(n, left)
        out = bytearray()
        while len(out) < n:
            pos = self.read_bytes + len(out)
            if pos < len(self.head):
                out += self.head[pos : pos + n - len(out)]
            elif pos < self.size - len(self.tail):
                out += b"x" * min(n - len(out), self.size - len(self.tail) - pos)
            else:
                start = pos - (self.size - len(self.tail))
                out += self.tail[start : start + n - len(out)]
        self.read_bytes += len(out)
        self.seen_on_disk.update(os.listdir(self.temp_dir))
        return bytes(out)

    def readline(self, limit: int = -1) -> bytes:
        return self.read(limit)


@pytest.fixture
def temp_dir(settings, tmp_path):
    path = tmp_path / "uploads"
    path.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(path)
    return str(path)


def _post(client: Client, path: str, body: WatchedBody, **meta: str):
    meta.setdefault("CONTENT_LENGTH", str(body.size))
    return client.generic(
        "POST", path, b"", CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}", **{"wsgi.input": body}, **meta
    )


def _anonymous() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF
    return client


@pytest.mark.parametrize("path", ["/accounts/login/", "/label/apply/", "/admin/login/", "/"])
def test_an_oversized_body_to_a_form_is_refused_with_413_before_anything_is_read(db, temp_dir, path):
    body = WatchedBody(20 * MB, temp_dir)
    response = _post(_anonymous(), path, body)
    assert response.status_code == 413
    assert "at most 5.0 MB is accepted here" in response.content.decode()
    assert body.read_bytes == 0 and not body.seen_on_disk and not os.listdir(temp_dir)


def test_a_streamed_body_without_content_length_is_refused_with_411_unread(db, temp_dir):
    # What gunicorn hands Django for Transfer-Encoding: chunked: the header, no CONTENT_LENGTH.
    body = WatchedBody(20 * MB, temp_dir)
    response = _post(_anonymous(), "/accounts/login/", body, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411
    assert "Content-Length" in response.content.decode()
    assert body.read_bytes == 0 and not body.seen_on_disk


def test_the_api_answers_413_in_its_error_shape_unread(db, temp_dir):
    body = WatchedBody(6 * MB, temp_dir)
    response = _post(Client(), "/api/v1/releases", body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert body.read_bytes == 0


def test_the_audio_hash_upload_keeps_its_own_limit(owner, label, temp_dir):
    client = Client()
    client.force_login(owner)
    limit = services.AUDIO_HASH_MAX_BYTES + 5 * MB
    for path in [f"/label/{label.pk}/releases/new/", f"/label/{label.pk}/releases/036000291452/edit/"]:
        body = WatchedBody(limit + 1, temp_dir, field="tracks-0-audio_file")
        response = _post(client, path, body)
        assert response.status_code == 413, path
        assert f"at most {limit / MB:.1f} MB" in response.content.decode()
        assert body.read_bytes == 0
    # Under the limit, a file larger than the default is read (and spooled, as Django does).
    body = WatchedBody(8 * MB, temp_dir, field="tracks-0-audio_file")
    # (The form is refused for the fields this body lacks, 400, but only after reading the file.)
    assert _post(client, f"/label/{label.pk}/releases/new/", body).status_code == 400
    assert body.read_bytes == body.size and body.seen_on_disk


def test_the_ern_import_keeps_its_own_limit(owner, label, temp_dir):
    client = Client()
    client.force_login(owner)
    body = WatchedBody(ern.MAX_BYTES + 5 * MB + 1, temp_dir)
    assert _post(client, f"/label/{label.pk}/releases/import/", body).status_code == 413
    assert body.read_bytes == 0
    body = WatchedBody(ern.MAX_BYTES + MB, temp_dir)
    response = _post(client, f"/label/{label.pk}/releases/import/", body)
    assert response.status_code == 400 and "over 10 MB" in response.content.decode()
    assert body.read_bytes == body.size
