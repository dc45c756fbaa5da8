"""The real MinIO server for Bucket-source tests, on free 127.0.0.1 ports (S3 API and console).

`MinioServer(root, access_key=..., secret_key=...)` runs `~/.cache/gotk/bin/minio` (built by
scripts/build-controlplane.sh) with its data, certificates and log under `root`; `tls=True` serves
HTTPS with a throwaway CA (`ca_pem`). `client()`, `make_bucket()`, `put_objects()` and
`remove_objects()` seed buckets through the minio Python client.
"""

from __future__ import annotations

import io
import ssl
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import urllib3
from minio import Minio

from gotk.local import certs
from gotk.local.controlplane import DEFAULT_BIN_DIR
from gotk.local.processes import LOOPBACK, Process, free_ports, http_get, tail, wait_until

__all__ = ["MINIO_BIN", "MinioServer", "MinioServerError"]

MINIO_BIN = DEFAULT_BIN_DIR / "minio"
START_TIMEOUT = 60.0


class MinioServerError(RuntimeError):
    """MinIO is not built, or did not become healthy (the message carries its log tail)."""


class MinioServer:
    """One MinIO process serving `root/data`; `endpoint` is `127.0.0.1:<port>` once started.

    The root user's keys are `access_key` (3+ characters) and `secret_key` (8+ characters).
    """

    def __init__(
        self,
        root: Path,
        *,
        access_key: str,
        secret_key: str,
        tls: bool = False,
        binary: Path = MINIO_BIN,
    ) -> None:
        self.root = Path(root)
        self.access_key = access_key
        self.secret_key = secret_key
        self.tls = tls
        self.binary = Path(binary)
        self.port = 0
        self.console_port = 0
        self.ca_pem = b""
        self._process: Process | None = None

    @property
    def endpoint(self) -> str:
        """`127.0.0.1:<port>`, the form a Bucket's `spec.endpoint` takes."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.endpoint}"

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        return ssl.create_default_context(cadata=self.ca_pem.decode())

    def _healthy(self) -> bool:
        http_get(f"{self.url}/minio/health/live", ctx=self._ssl_context())  # raises unless 2xx
        return True

    def _write_certs(self, certs_dir: Path) -> None:
        certs_dir.mkdir(parents=True, exist_ok=True)
        if not self.tls:
            return
        ca_pem, cert_pem, key_pem = certs.self_signed_server(["localhost"], [LOOPBACK])
        (certs_dir / "public.crt").write_bytes(cert_pem)
        key = certs_dir / "private.key"
        key.write_bytes(key_pem)
        key.chmod(0o600)
        self.ca_pem = ca_pem

    def start(self) -> Self:
        """Start MinIO and wait until `/minio/health/live` answers 200."""
        if not self.binary.is_file():
            raise MinioServerError(f"{self.binary} is missing: run scripts/build-controlplane.sh")
        data, certs_dir = self.root / "data", self.root / "certs"
        data.mkdir(parents=True, exist_ok=True)
        self._write_certs(certs_dir)
        env = {
            "MINIO_ROOT_USER": self.access_key,
            "MINIO_ROOT_PASSWORD": self.secret_key,
            "MINIO_UPDATE": "off",
            "MINIO_BROWSER_LOGIN_ANIMATION": "off",
        }
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port, self.console_port = free_ports(2)
            argv = [
                str(self.binary),
                "server",
                str(data),
                "--address",
                f"{LOOPBACK}:{self.port}",
                "--console-address",
                f"{LOOPBACK}:{self.console_port}",
                "--certs-dir",
                str(certs_dir),
                "--quiet",
            ]
            log = self.root / f"minio-{self.port}.log"
            proc = Process("minio", argv, log, env=env, port=self.port)
            proc.spawn()
            try:
                wait_until(
                    "minio",
                    "/minio/health/live",
                    self._healthy,
                    timeout=START_TIMEOUT,
                    watch=[proc],
                    error=MinioServerError,
                    log=log,
                )
            except MinioServerError as exc:
                proc.stop(grace=5)
                last_error = f"{exc}\n{tail(log, 20)}"
                continue
            self._process = proc
            return self
        raise MinioServerError(f"minio did not start on {LOOPBACK}:{self.port}:\n{last_error}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop(grace=10)
            self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- seeding ---------------------------------------------------------------------------------

    def client(self) -> Minio:
        """A minio client logged in as the root user."""
        ctx = self._ssl_context()
        http = urllib3.PoolManager(ssl_context=ctx) if ctx is not None else None
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=self.tls,
            http_client=http,
        )

    def make_bucket(self, name: str, objects: Mapping[str, bytes | str] | None = None) -> None:
        """Create bucket `name` (if missing) and put `objects` (key -> content) into it."""
        client = self.client()
        if not client.bucket_exists(name):
            client.make_bucket(name)
        if objects:
            self.put_objects(name, objects)

    def put_objects(self, bucket: str, objects: Mapping[str, bytes | str]) -> dict[str, str]:
        """Put each key -> content (str is UTF-8 encoded); returns key -> etag."""
        client = self.client()
        etags: dict[str, str] = {}
        for key, content in objects.items():
            data = content.encode() if isinstance(content, str) else content
            result = client.put_object(bucket, key, io.BytesIO(data), len(data))
            etags[key] = str(result.etag).replace('"', "")
        return etags

    def remove_objects(self, bucket: str, keys: Iterable[str]) -> None:
        client = self.client()
        for key in keys:
            client.remove_object(bucket, key)
