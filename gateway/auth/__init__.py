"""Accounts, roles, sessions and the second factor."""

from doorstep.gateway.auth.accounts import AccountService
from doorstep.gateway.auth.errors import AuthError, SignIn, token_hash
from doorstep.gateway.auth.principal import Principal

__all__ = ["AccountService", "AuthError", "Principal", "SignIn", "token_hash"]
