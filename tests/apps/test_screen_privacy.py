"""Screen privacy: private windows are dropped, secrets in OCR text are redacted (and nothing else
is touched), rules validate and round-trip through JSON.

Fake keys are assembled from pieces so this file itself never looks like a leaked secret to a
secret scanner; every value is made up or a published test value.
"""

from __future__ import annotations

import json

import pytest

from apps.screen_privacy import DEFAULT_RULES, PrivacyRules, excluded, redact, redact_lines


def card_redacted(text: str) -> bool:
    out, kinds = redact(text)
    return out == "[REDACTED:card]" and kinds == ["card"]


# ---- cards ----------------------------------------------------------------------------------

VALID_CARDS = [
    "4111 1111 1111 1111",  # Visa
    "4111-1111-1111-1111",
    "4111111111111111",
    "4012888888881881",
    "4222222222222",  # 13-digit Visa
    "5500-0000-0000-0004",  # Mastercard
    "5105 1051 0510 5100",
    "2223 0031 2200 3222",  # Mastercard 2-series
    "378282246310005",  # Amex
    "3782 822463 10005",  # Amex as printed, 4-6-5
    "371449635398431",
    "6011 1111 1111 1117",  # Discover
    "6011000990139424",
    "3530111333300000",  # JCB
    "30569309025904",  # Diners, 14 digits
    "3056 930902 5904",  # Diners as printed, 4-6-4
]


@pytest.mark.parametrize("number", VALID_CARDS)
def test_valid_card_numbers_are_redacted(number: str) -> None:
    assert card_redacted(number)


@pytest.mark.parametrize("number", VALID_CARDS)
def test_the_same_numbers_failing_luhn_are_kept(number: str) -> None:
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert redact(wrong) == (wrong, [])


def test_card_in_a_sentence_keeps_the_rest_byte_for_byte() -> None:
    text = "Café\tPay with 4111 1111 1111 1111, exp 12/27.\r\nThanks ☕"
    assert redact(text) == ("Café\tPay with [REDACTED:card], exp 12/27.\r\nThanks ☕", ["card"])


def test_a_trailing_expiry_is_not_swallowed_into_the_number() -> None:
    assert redact("4111 1111 1111 1111 12/27") == ("[REDACTED:card] 12/27", ["card"])
    assert redact("exp 12/27 4111 1111 1111 1111") == ("exp 12/27 [REDACTED:card]", ["card"])


def test_two_cards_in_a_row_are_both_redacted() -> None:
    out, kinds = redact("cards: 4111 1111 1111 1111 4012 8888 8888 1881")
    assert out == "cards: [REDACTED:card] [REDACTED:card]" and kinds == ["card"]


@pytest.mark.parametrize(
    "text",
    [
        "Invoice 4471 - Mail",
        "Invoice #4471 due 2024-06-21, total $12,800.00",
        "$12,800",
        "$1,234,567.89 wired on 21/06/2024",
        "Meeting at 16:30, back by 17:45",
        "Call +1 (415) 555-2671 or +44 20 7946 0958",
        "+14155552671",
        "Tracking 1Z999AA10123456784",
        "Timestamp 1718900000007 ms",  # Luhn-valid, but 1xxx is no card network (Unix ms times)
        "ISBN 978-3-16-148410-0",
        "41111111111111110000",  # a card's digits inside a longer number
        "4111111111111111.50",  # an amount, not a card
        "Order 1234 5678 9012 3452",  # Luhn-valid, 1xxx again
    ],
)
def test_ordinary_numbers_are_untouched(text: str) -> None:
    assert redact(text) == (text, [])


# ---- API keys -------------------------------------------------------------------------------

GITHUB_BODY = "16C7e42F292c6912E7710c838347Ae178B4a"
PEM_BEGIN, PEM_END = "-----BEGIN " + "RSA PRIVATE KEY-----", "-----END " + "RSA PRIVATE KEY-----"

KEYS = {
    "aws": "AKIA" + "IOSFODNN7EXAMPLE",
    "aws session": "ASIA" + "Y34FZKBOKMUTVV7A",
    "github ghp": "ghp_" + GITHUB_BODY,
    "github gho": "gho_" + GITHUB_BODY,
    "github ghu": "ghu_" + GITHUB_BODY,
    "github ghs": "ghs_" + GITHUB_BODY,
    "github ghr": "ghr_" + GITHUB_BODY,
    "github pat": "github_pat_" + "11ABCDE2Y0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefGHIJKLmnopQRSTUV",
    "slack bot": "xoxb-" + "2048147386-3172901288-Zk8QbVwLqM1rT6yH4nJ0sD2c",
    "slack user": "xoxp-" + "2048147386-3172901288-4419275530-9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "openai": "sk-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6l",
    "openai project": "sk-proj-" + "4fG7hJ2kL9mN1pQ3rS5tU8vW0xY6zA2bC4dE_f-Gh7iJ9kL",
    "google": "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "stripe secret": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "stripe publishable": "pk_live_" + "51HqLyjWDarjtT1zdp7dcXYZ",
    "stripe restricted": "rk_live_" + "51HqLyjWDarjtT1zdp7dcXYZ",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "private key": f"{PEM_BEGIN}\nMIIEowIBAAKCAQEAx4UbaDzY3vVvWZTR6kBkQ2v9\nq8N1o6yZ0aQm3==\n{PEM_END}",
    "openssh key": "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n"
    "-----END " + "OPENSSH PRIVATE KEY-----",
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_key_formats_are_redacted_in_context(name: str) -> None:
    key = KEYS[name]
    in_context = ("export TOKEN=[REDACTED:api_key] # rotate me", ["api_key"])
    assert redact(f"export TOKEN={key} # rotate me") == in_context
    assert redact(key) == ("[REDACTED:api_key]", ["api_key"])


@pytest.mark.parametrize(
    "text",
    [
        "skill",
        "task-list",
        "Add a task-list to the desk-1234567890abcdefGHIJ board",
        "ask-me-anything",
        "use sk-learn-compatible-estimators-v2 here",  # kebab-case, no mixed case: a word, not a key
        "sk-short1A",
        "AKIA Motors quarterly report",
        "ghp_ is the prefix of a GitHub token",
        "xoxo-gossip-girl-season-one",
        "risk_live_updates and desk_test_runs",
        "eyJ is how base64 JSON starts",
        "-----BEGIN PUBLIC KEY-----",
        "tax.py - Visual Studio Code",
    ],
)
def test_ordinary_words_are_not_keys(text: str) -> None:
    assert redact(text) == (text, [])


def test_a_cut_off_private_key_is_redacted_through_its_base64_lines() -> None:
    text = f"id_rsa:\n{PEM_BEGIN}\nMIIEowIBAAKCAQEAx4UbaDzY3vVvWZTR6kBkQ2v9\n\nq8N1o6yZ0aQm3==\nNext paragraph."
    assert redact(text) == ("id_rsa:\n[REDACTED:api_key]\nNext paragraph.", ["api_key"])


# ---- passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Password: hunter2", "Password: [REDACTED:password]"),
        ("password:hunter2", "password:[REDACTED:password]"),
        ("passwd=swordfish", "passwd=[REDACTED:password]"),
        ("pwd: Tr0ub4dor&3", "pwd: [REDACTED:password]"),
        ("Wi-Fi passcode: 8812 4471", "Wi-Fi passcode: [REDACTED:password]"),
        ("PIN: 4471", "PIN: [REDACTED:password]"),
        ("pin code = 0000", "pin code = [REDACTED:password]"),
        ("Passphrase: correct horse battery staple", "Passphrase: [REDACTED:password]"),
        ("DB_PASSWORD=s3cr3t", "DB_PASSWORD=[REDACTED:password]"),
        ('{"user": "ann", "password": "hunter2"}', '{"user": "ann", "password": "[REDACTED:password]"}'),
        ("password = 'abc def'  # dev only", "password = '[REDACTED:password]'  # dev only"),
        ("Password*: ●●●●●●●●  Remember me", "Password*: [REDACTED:password]  Remember me"),
        ("Password\t••••••••\tShow", "Password\t[REDACTED:password]\tShow"),
        ("●●●●●●", "[REDACTED:password]"),
        ("  ********  ", "  [REDACTED:password]  "),
    ],
)
def test_password_values_are_redacted_and_labels_kept(text: str, expected: str) -> None:
    assert redact(text) == (expected, ["password"])


def test_a_password_label_on_one_line_stops_at_the_line_end() -> None:
    text = "password: hunter2\nuser: ann"
    assert redact(text) == ("password: [REDACTED:password]\nuser: ann", ["password"])


def test_a_key_after_a_password_label_is_one_redaction() -> None:
    key = KEYS["openai"]
    assert redact(f"password: {key}") == ("password: [REDACTED:api_key]", ["api_key"])


@pytest.mark.parametrize(
    "text",
    [
        "Forgot password?",
        "Change your password in Settings",
        "Password:",
        "Passwords: 3 saved",
        "password_hash: argon2id",
        "Spinning: yes",
        "Pinned: 3 messages",
        "Opinion: great",
        "Rating ***** (5 stars)",
        "/***********/",
        "Use ** for bold",
    ],
)
def test_password_words_without_a_value_are_untouched(text: str) -> None:
    assert redact(text) == (text, [])


# ---- IBAN and SSN ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "gb82 west 1234 5698 7654 32",
        "DE89 3704 0044 0532 0130 00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "BE68 5390 0754 7034",
        "NO93 8601 1117 947",
    ],
)
def test_ibans_passing_mod_97_are_redacted(iban: str) -> None:
    assert redact(f"IBAN: {iban} (EUR)") == ("IBAN: [REDACTED:iban] (EUR)", ["iban"])


def test_an_iban_followed_by_words_keeps_the_words() -> None:
    assert redact("BE68 5390 0754 7034 from Anna") == ("[REDACTED:iban] from Anna", ["iban"])


@pytest.mark.parametrize(
    "text",
    ["GB83 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 33", "DE88370400440532013000", "AB12 Road Works"],
)
def test_iban_shapes_failing_the_check_are_kept(text: str) -> None:
    assert redact(text) == (text, [])


def test_ssn_is_redacted() -> None:
    assert redact("SSN 123-45-6789.") == ("SSN [REDACTED:ssn].", ["ssn"])


@pytest.mark.parametrize(
    "text",
    [
        "000-12-3456",
        "666-12-3456",
        "912-34-5678",
        "123-00-4567",
        "123-45-0000",
        "555-123-4567",
        "2024-06-21",
        "1-800-555-0199",
        "123-45-67890",
    ],
)
def test_invalid_ssns_and_look_alikes_are_kept(text: str) -> None:
    assert redact(text) == (text, [])


# ---- whole texts, idempotence ---------------------------------------------------------------

MIXED = (
    "From: billing@globex.com  16:30\n"
    "Invoice 4471 - total $12,800, due 2024-06-21. Call +1 (415) 555-2671.\n"
    "Card 5500-0000-0000-0004, IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789\n"
    f"password: hunter2  Remember me\nAWS {KEYS['aws']}\n"
)


def test_a_mixed_screen_is_redacted_in_place() -> None:
    out, kinds = redact(MIXED)
    assert out == (
        "From: billing@globex.com  16:30\n"
        "Invoice 4471 - total $12,800, due 2024-06-21. Call +1 (415) 555-2671.\n"
        "Card [REDACTED:card], IBAN [REDACTED:iban], SSN [REDACTED:ssn]\n"
        "password: [REDACTED:password]  Remember me\nAWS [REDACTED:api_key]\n"
    )
    assert sorted(kinds) == ["api_key", "card", "iban", "password", "ssn"]


@pytest.mark.parametrize(
    "text",
    [
        MIXED,
        *KEYS.values(),
        *VALID_CARDS,
        "password: [REDACTED:password]",
        '"pwd": "[REDACTED:password]"',
        "[REDACTED:card] 4111 1111 1111 1111",
        "SSN 123-45-6789 4111 1111 1111 1111",
        "",
    ],
)
def test_redaction_is_idempotent(text: str) -> None:
    once, _ = redact(text)
    assert redact(once) == (once, [])


def test_text_without_secrets_comes_back_identical() -> None:
    text = "Quarterly review\n\tQ3 revenue: $4.2M (+12%)\nNext sync Tue 16:30 — room 4471 ✓\n"
    assert redact(text) == (text, [])


# ---- OCR lines ------------------------------------------------------------------------------


def test_redact_lines_keeps_one_line_per_line_and_collects_kinds() -> None:
    lines = ["Invoice 4471", "Card 4111 1111 1111 1111", "PIN: 1234", "Thanks", "Visa 4012 8888 8888 1881"]
    out, kinds = redact_lines(lines)
    assert out == [
        "Invoice 4471",
        "Card [REDACTED:card]",
        "PIN: [REDACTED:password]",
        "Thanks",
        "Visa [REDACTED:card]",
    ]
    assert kinds == ["card", "password"]
    assert redact_lines([]) == ([], [])


def test_redact_lines_blanks_a_private_key_body_across_lines() -> None:
    lines = [
        "$ cat id_rsa",
        PEM_BEGIN,
        "MIIEowIBAAKCAQEAx4UbaDzY3vVvWZTR6kBkQ2v9",
        "",
        "q8N1o6yZ0aQm3==",
        PEM_END + " done",
        "$ ls",
    ]
    out, kinds = redact_lines(lines)
    key = "[REDACTED:api_key]"
    assert out == ["$ cat id_rsa", key, key, "", key, f"{key} done", "$ ls"]
    assert kinds == ["api_key"]


def test_redact_lines_ends_a_cut_off_key_block_at_ordinary_text() -> None:
    lines = [PEM_BEGIN, "MIIEowIBAAKCAQEAx4UbaDzY3vVvWZTR6kBkQ2v9", "Terminal — 80x24", "Invoice 4471"]
    out, _ = redact_lines(lines)
    assert out == ["[REDACTED:api_key]", "[REDACTED:api_key]", "Terminal — 80x24", "Invoice 4471"]


# ---- excluded windows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "title", "reason"),
    [
        ("Firefox", "GitHub — Mozilla Firefox Private Browsing", "private window: Private Browsing"),
        ("firefox", "Mozilla Firefox (Private Browsing)", "private window: Private Browsing"),
        ("Google Chrome", "New Tab - Google Chrome (Incognito)", "private window: Incognito"),
        ("Chromium", "Inbox - Chromium - INCOGNITO", "private window: INCOGNITO"),
        ("Microsoft Edge", "New InPrivate tab - [InPrivate] - Microsoft Edge", "private window: InPrivate"),
        ("Safari", "Safari — Private Browsing", "private window: Private Browsing"),
        ("Safari", "Apple (Private)", "private window: (Private)"),
        ("Safari", "Private — Safari", "private window: Private"),
        ("Brave Browser", "New Private Tab - Brave", "private window: Private"),
        ("Brave Browser", "Private Window with Tor - Brave", "private window: Private Window"),
        ("Tor Browser", "Explore. Privacy. — Tor Browser", "private window: Tor Browser"),
        (None, "New Tab - Google Chrome (Incognito)", "private window: Incognito"),
    ],
)
def test_private_browser_windows_are_excluded(app: str | None, title: str, reason: str) -> None:
    assert excluded(DEFAULT_RULES, app, title) == reason


@pytest.mark.parametrize(
    ("app", "reason"),
    [
        ("KeePassXC", "excluded app: KeePassXC"),
        ("keepassxc", "excluded app: keepassxc"),
        ("KEEPASSXC", "excluded app: KEEPASSXC"),
        ("org.keepassxc.KeePassXC", "excluded app: org.keepassxc.KeePassXC"),
        ("KeePassXC.exe", "excluded app: KeePassXC.exe"),
        ("1Password 7", "excluded app: 1Password 7"),
        ("Bitwarden", "excluded app: Bitwarden"),
        ("Keeper Password Manager", "excluded app: Keeper Password Manager"),
        ("Keychain Access", "excluded app: Keychain Access"),
    ],
)
def test_excluded_apps_are_excluded_case_insensitively(app: str, reason: str) -> None:
    assert excluded(DEFAULT_RULES, app, "Vault") == reason
    assert excluded(DEFAULT_RULES, app, None) == reason


@pytest.mark.parametrize(
    ("app", "title"),
    [
        ("Mail", "Invoice 4471 - Mail"),
        ("Code", "tax.py - Visual Studio Code"),
        ("Google Chrome", "Inbox (3) - ann@globex.com - Gmail - Google Chrome"),
        ("Firefox", "Privacy Settings — Mozilla Firefox"),
        ("Microsoft Word", "Private Equity Memo.docx - Word"),
        ("ZooKeeper", "ZooKeeper CLI"),
        ("Terminal", "ssh bastion — 80x24"),
        (None, None),
        ("", ""),
    ],
)
def test_ordinary_windows_are_not_excluded(app: str | None, title: str | None) -> None:
    assert excluded(DEFAULT_RULES, app, title) is None


def test_custom_rules_replace_the_defaults() -> None:
    rules = DEFAULT_RULES.with_(excluded_apps=("Signal",), excluded_titles=(r"\bBank of \w+",))
    assert excluded(rules, "signal", "Chat") == "excluded app: signal"
    assert excluded(rules, "Firefox", "Accounts — bank of america — Firefox") == "private window: bank of america"
    assert excluded(rules, "KeePassXC", "New Tab (Incognito)") is None
    assert excluded(PrivacyRules(excluded_apps=(), excluded_titles=()), "KeePassXC", "Incognito") is None


def test_a_long_match_is_shortened_in_the_reason() -> None:
    rules = DEFAULT_RULES.with_(excluded_titles=(r"secret.*",))
    reason = excluded(rules, "Notes", "secret " + "x" * 200)
    assert reason is not None and reason.startswith("private window: secret ") and len(reason) <= 60


# ---- rules: JSON, validation ----------------------------------------------------------------


def test_default_rules_cover_password_managers_and_private_windows() -> None:
    assert DEFAULT_RULES == PrivacyRules() and DEFAULT_RULES.redact is True
    assert {"1password", "keepassxc", "bitwarden"} <= set(DEFAULT_RULES.excluded_apps)


@pytest.mark.parametrize(
    "rules",
    [
        DEFAULT_RULES,
        PrivacyRules(excluded_apps=("Signal", "1password"), excluded_titles=(r"\bBank\b", "payroll"), redact=False),
        PrivacyRules(excluded_apps=(), excluded_titles=()),
    ],
)
def test_json_round_trip(rules: PrivacyRules) -> None:
    data = json.loads(json.dumps(rules.to_json()))
    assert PrivacyRules.from_json(data) == rules
    assert PrivacyRules.from_json(data).to_json() == data


def test_from_json_fills_missing_fields_with_defaults() -> None:
    assert PrivacyRules.from_json({}) == DEFAULT_RULES
    rules = PrivacyRules.from_json({"redact": False})
    assert rules.redact is False and rules.excluded_apps == DEFAULT_RULES.excluded_apps


def test_lists_become_tuples_so_rules_stay_hashable() -> None:
    rules = PrivacyRules(excluded_apps=["Signal"], excluded_titles=["x"])  # type: ignore[arg-type]
    assert rules.excluded_apps == ("Signal",) and rules.excluded_titles == ("x",)
    assert hash(rules) == hash(PrivacyRules(excluded_apps=("Signal",), excluded_titles=("x",)))


def test_with_changes_a_copy() -> None:
    rules = DEFAULT_RULES.with_(redact=False)
    assert rules.redact is False and DEFAULT_RULES.redact is True
    assert rules.excluded_titles == DEFAULT_RULES.excluded_titles


@pytest.mark.parametrize(
    "make",
    [
        lambda: DEFAULT_RULES.with_(excluded_titles=("ok", "(unclosed")),
        lambda: PrivacyRules(excluded_titles=("(unclosed",)),
        lambda: PrivacyRules.from_json({"excluded_titles": ["ok", "(unclosed"]}),
    ],
)
def test_a_bad_regex_names_the_pattern_in_one_line(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as err:
        make()
    message = str(err.value)
    assert "'(unclosed'" in message and "excluded_titles" in message and "\n" not in message


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"exclude_apps": ["x"]}, "exclude_apps"),
        ({"excluded_apps": "1password"}, "excluded_apps"),
        ({"excluded_apps": [3]}, "excluded_apps"),
        ({"excluded_apps": ["  "]}, "excluded_apps"),
        ({"excluded_titles": None}, "excluded_titles"),
        ({"redact": "false"}, "redact"),
        (["excluded_apps"], "JSON object"),
    ],
)
def test_from_json_refuses_malformed_rules(data: object, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        PrivacyRules.from_json(data)  # type: ignore[arg-type]


def test_rules_are_immutable() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_RULES.redact = False  # type: ignore[misc]
