"""Accounts, roles, sessions and the second factor."""

from .accounts import AccountService, AuthError, SignIn, token_hash
from .principal import Principal

__all__ = ["AccountService", "AuthError", "Principal", "SignIn", "token_hash"]
