"""The tamper-evident audit log: append-only rows in a hash chain, and its verifier."""

from doorstep.gateway.audit.log import GENESIS, AuditEntry, AuditLog, VerifyResult, verify_chain

__all__ = ["GENESIS", "AuditEntry", "AuditLog", "VerifyResult", "verify_chain"]
