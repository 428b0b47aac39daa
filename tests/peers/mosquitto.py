"""A throw-away Mosquitto broker (Debian's `mosquitto` package) on 127.0.0.1 for tests.

Plain TCP and, optionally, a TLS listener with a certificate from a throw-away CA; both need
the user and password written with `mosquitto_passwd`. No persistence: a restart forgets every
retained message, which is what the reconnect test relies on. `scripts/test` installs the
package when run as root; a missing binary is an error, never a skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MOSQUITTO = Path("/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = Path("/usr/bin/mosquitto_passwd")
USER = "doorstep"
PASSWORD = "br0ker-s3cret"  # a test broker's password


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Certificates:
    """A CA and a server certificate for 127.0.0.1 / localhost signed by it (PEM files)."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _leaf(
    ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name, common_name: str, server: bool
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
    return builder.sign(ca_key, hashes.SHA256()), key


def make_certificates(directory: Path) -> Certificates:
    """A CA plus server and client certificates that pass Python's strict X.509 checks."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Doorstep test CA")])
    now = datetime.now(UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server, server_key = _leaf(ca_key, ca_name, "localhost", server=True)
    client, client_key = _leaf(ca_key, ca_name, "doorstep-gateway", server=False)
    paths = Certificates(
        directory / "ca.crt", directory / "server.crt", directory / "server.key",
        directory / "client.crt", directory / "client.key",
    )  # fmt: skip
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.server_cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths.server_key.write_bytes(_key_pem(server_key))
    paths.client_cert.write_bytes(client.public_bytes(serialization.Encoding.PEM))
    paths.client_key.write_bytes(_key_pem(client_key))
    return paths


@dataclass
class Broker:
    """A running Mosquitto; `restart()` brings it back on the same ports with nothing retained."""

    directory: Path
    port: int
    tls_port: int | None = None
    certificates: Certificates | None = None
    require_client_cert: bool = False
    user: str = USER
    password: str = PASSWORD
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        """The broker's own log (connections and refusals are logged at 'notice')."""
        return self.directory / "mosquitto.log"

    def log(self) -> str:
        """Everything the broker logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _config(self) -> Path:
        passwd = self.directory / "passwd"
        if not passwd.exists():
            subprocess.run(
                [str(MOSQUITTO_PASSWD), "-c", "-b", str(passwd), self.user, self.password],
                check=True,
                capture_output=True,
            )
        lines = [
            # As root, mosquitto drops to the `mosquitto` user before reading the password file.
            *(["user root"] if os.geteuid() == 0 else []),
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_timestamp false",
            "connection_messages true",
            # Without it a retained message arrives ~40 ms after subscribing (Nagle + delayed ACK).
            "set_tcp_nodelay true",
            "allow_anonymous false",
            f"password_file {passwd}",
            "",
            f"listener {self.port} 127.0.0.1",
        ]
        if self.tls_port is not None and self.certificates is not None:
            certs = self.certificates
            lines += [
                "",
                f"listener {self.tls_port} 127.0.0.1",
                f"cafile {certs.ca}",
                f"certfile {certs.server_cert}",
                f"keyfile {certs.server_key}",
                f"require_certificate {'true' if self.require_client_cert else 'false'}",
            ]
        path = self.directory / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self) -> None:
        """Start the broker and wait until every listener accepts connections."""
        if not MOSQUITTO.exists():
            raise RuntimeError(
                f"{MOSQUITTO} is missing: install Debian's mosquitto package "
                "(scripts/test does when run as root)"
            )
        config = self._config()
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [str(MOSQUITTO), "-c", str(config)], stdout=log, stderr=log
            )
        for port in (self.port, self.tls_port):
            if port is not None:
                self._wait_port(port)

    def _wait_port(self, port: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited ({self._proc.returncode}):\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mosquitto not listening on {port}:\n{self.log()}"
                    ) from None
                time.sleep(0.01)

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 5 s)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self) -> None:
        """Stop, then start on the same ports (retained messages are gone: no persistence)."""
        self.stop()
        self.start()


def start_broker(
    directory: Path,
    certificates: Certificates | None = None,
    require_client_cert: bool = False,
) -> Broker:
    """A started broker in `directory`, with a TLS listener when `certificates` are given."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    broker = Broker(
        directory,
        _free_port(),
        _free_port() if certificates is not None else None,
        certificates,
        require_client_cert,
    )
    broker.start()
    return broker
