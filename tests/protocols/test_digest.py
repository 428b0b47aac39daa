"""Digest and Basic: RFC 2617's own example, and the client's answer checked by the server side."""

from __future__ import annotations

from collections.abc import Callable

from doorstep.protocols.digest import (
    basic_authorization,
    check_basic,
    check_digest,
    digest_authorization,
    digest_challenge,
    digest_response,
    parse_params,
    split_scheme,
)


def test_the_rfc_2617_example_gives_its_published_response() -> None:
    response = digest_response(
        username="Mufasa",
        password="Circle Of Life",
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        method="GET",
        uri="/dir/index.html",
        qop="auth",
        nc="00000001",
        cnonce="0a4f113b",
    )
    assert response == "6629fae49393a05397450978507c4ef1"


def _challenge(qop: bool) -> dict[str, str]:
    return parse_params(split_scheme(digest_challenge("Cam", "n0nce", qop=qop))[1])


def test_the_clients_answer_satisfies_the_server_with_and_without_qop() -> None:
    for qop in (True, False):
        header = digest_authorization(_challenge(qop), "admin", "pw", "DESCRIBE", "rtsp://h/s")
        assert ("qop=auth" in header) is qop
        assert check_digest(
            header, username="admin", password="pw", realm="Cam", method="DESCRIBE",
            nonce_ok=lambda n: n == "n0nce",
        )  # fmt: skip


def test_the_server_refuses_a_wrong_password_method_nonce_or_scheme() -> None:
    header = digest_authorization(_challenge(True), "admin", "pw", "DESCRIBE", "rtsp://h/s")

    def check(
        password: str = "pw",  # noqa: S107  # the test vector's password
        method: str = "DESCRIBE",
        realm: str = "Cam",
        nonce_ok: Callable[[str], bool] = lambda n: n == "n0nce",
    ) -> bool:
        return check_digest(
            header, username="admin", password=password, realm=realm, method=method,
            nonce_ok=nonce_ok,
        )  # fmt: skip

    assert check()
    assert not check(password="other")
    assert not check(method="SETUP")
    assert not check(realm="Other")
    assert not check(nonce_ok=lambda n: False)
    assert not check_digest(
        basic_authorization("admin", "pw"), username="admin", password="pw", realm="Cam",
        method="DESCRIBE", nonce_ok=lambda n: True,
    )  # fmt: skip


def test_basic_round_trip_and_garbage() -> None:
    assert check_basic(basic_authorization("admin", "pw"), username="admin", password="pw")
    assert not check_basic(basic_authorization("admin", "no"), username="admin", password="pw")
    assert not check_basic("Basic !!!not-base64", username="admin", password="pw")
    assert not check_basic("Digest x=y", username="admin", password="pw")
