"""How counted refusals read: (action, outcome) → (one, many, what it was about)."""

from __future__ import annotations

REFUSALS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("login", "failed"): ("failed sign-in", "failed sign-ins", ""),
    ("login", "failed_totp"): ("wrong second-factor code", "wrong second-factor codes",
                               " at sign-in"),
    ("login", "failed_recovery_code"): ("wrong recovery code", "wrong recovery codes",
                                        " at sign-in"),
    ("login", "throttled"): ("sign-in attempt refused (too many tries)",
                             "sign-in attempts refused (too many tries)", ""),
    ("session.confirm", "failed"): ("wrong password", "wrong passwords", " confirming a change"),
    ("session.confirm", "failed_totp"): ("wrong second-factor code", "wrong second-factor codes",
                                         " confirming a change"),
    ("session.confirm", "failed_recovery_code"): ("wrong recovery code", "wrong recovery codes",
                                                  " confirming a change"),
    ("session.confirm", "throttled"): ("attempt refused (too many tries)",
                                       "attempts refused (too many tries)", " confirming a change"),
    ("user.password", "failed"): ("wrong current password", "wrong current passwords",
                                  " changing the password"),
    ("user.password", "throttled"): ("attempt refused (too many tries)",
                                     "attempts refused (too many tries)", " changing the password"),
    ("setup", "denied"): ("set-up attempt with a wrong token", "set-up attempts with a wrong token",
                          ""),
    ("share.refused", "denied"): ("refused share link (unknown or ended)",
                                  "refused share links (unknown or ended)", ""),
    ("evidence.refused", "denied"): ("refused look at a request or package (not the agency's)",
                                     "refused looks at requests or packages (not the agency's)",
                                     ""),
    ("setup", "throttled"): ("set-up attempt refused (too many tries)",
                             "set-up attempts refused (too many tries)", ""),
}  # fmt: skip
