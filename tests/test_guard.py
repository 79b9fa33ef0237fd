"""The reply safety guard: secret requests (6 languages), links, look-alike domains, addresses, placeholders."""

from __future__ import annotations

import base58
import bech32
import pytest

from agent_tui.macros.guard import (
    DEFAULT_LEXICON,
    GuardReport,
    check_reply,
    find_addresses,
    lookalike_of,
    record_override,
)

ALLOWED = ["example.com", "examplecdn.net"]


def codes(text, **kw):
    return check_reply(text, **kw).codes


# --- BLOCK: asking for secrets --------------------------------------------------------------------------

SECRET_REQUESTS = [
    # English
    ("en", "Please send us your seed phrase so we can recover the funds.", "asks_for_seed_phrase"),
    ("en", "To verify your wallet, share your 12-word recovery phrase with me.", "asks_for_seed_phrase"),
    ("en", "Could you provide your private key?", "asks_for_private_key"),
    ("en", "What is your 2FA code?", "asks_for_otp_code"),
    ("en", "Reply with the SMS code you just received.", "asks_for_otp_code"),
    ("en", "We need your password to unlock the account.", "asks_for_password"),
    ("en", "Please type your Google Authenticator code here.", "asks_for_otp_code"),
    ("en", "Seed phrase: ______", "asks_for_seed_phrase"),
    ("en", "Never share your seed phrase. Please send us your password.", "asks_for_password"),
    # Russian
    ("ru", "Пожалуйста, отправьте нам вашу сид-фразу.", "asks_for_seed_phrase"),
    ("ru", "Сообщите, пожалуйста, код из СМС.", "asks_for_otp_code"),
    ("ru", "Для проверки пришлите ваш приватный ключ.", "asks_for_private_key"),
    ("ru", "Назовите ваш пароль от аккаунта.", "asks_for_password"),
    ("ru", "Нам нужна ваша мнемоническая фраза.", "asks_for_seed_phrase"),
    # Ukrainian
    ("uk", "Надішліть нам вашу сід-фразу.", "asks_for_seed_phrase"),
    ("uk", "Повідомте, будь ласка, код з СМС.", "asks_for_otp_code"),
    ("uk", "Надайте ваш пароль для перевірки.", "asks_for_password"),
    # Spanish
    ("es", "Por favor, envíenos su frase semilla.", "asks_for_seed_phrase"),
    ("es", "Indíquenos el código de verificación que recibió por SMS.", "asks_for_otp_code"),
    ("es", "¿Cuál es su contraseña?", "asks_for_password"),
    ("es", "Necesitamos su clave privada para recuperar los fondos.", "asks_for_private_key"),
    # Turkish
    ("tr", "Lütfen kurtarma ifadenizi bize gönderin.", "asks_for_seed_phrase"),
    ("tr", "Lütfen SMS doğrulama kodunu bize iletin.", "asks_for_otp_code"),
    ("tr", "Şifrenizi yazar mısınız?", "asks_for_password"),
    ("tr", "Özel anahtarınızı paylaşın.", "asks_for_private_key"),
    # Chinese
    ("zh", "请发送您的助记词给我们。", "asks_for_seed_phrase"),
    ("zh", "请提供您的短信验证码。", "asks_for_otp_code"),
    ("zh", "麻烦告诉我您的密码。", "asks_for_password"),
    ("zh", "为了找回资产，我们需要您的私钥。", "asks_for_private_key"),
    # evasion
    ("en", "Please send us your se\u200bed phrase.", "asks_for_seed_phrase"),
    ("en", "Please send us your ｓｅｅｄ ｐｈｒａｓｅ.", "asks_for_seed_phrase"),
]


@pytest.mark.parametrize("lang, text, code", SECRET_REQUESTS)
def test_secret_requests_block(lang, text, code):
    report = check_reply(text)
    assert report.blocked, text
    assert code in report.codes
    finding = next(f for f in report.blocks if f.code == code)
    assert finding.level == "block" and "\n" not in finding.reason


SAFE_TEXTS = [
    # English: warnings and ordinary mentions
    ("en", "We will never ask for your seed phrase."),
    ("en", "Never share your seed phrase, send us only the TXID."),
    ("en", "Do not share your 2FA code with anyone, including us."),
    ("en", "Our staff will not ask you to send your private key."),
    ("en", "We will send you a link to reset your password."),
    ("en", "Please reset your password and enable 2FA."),
    ("en", "Scammers may ask for your seed phrase; ignore them."),
    ("en", "No one from our team will ever request your password."),
    ("en", "Please send us the TXID and a screenshot of the withdrawal."),
    # Russian
    ("ru", "Никогда не сообщайте никому вашу сид-фразу."),
    ("ru", "Мы никогда не запрашиваем ваш пароль."),
    ("ru", "Не передавайте код из СМС третьим лицам."),
    ("ru", "Мы отправим вам ссылку для сброса пароля."),
    ("ru", "Пожалуйста, пришлите хеш транзакции."),
    # Ukrainian
    ("uk", "Ніколи нікому не повідомляйте свою сід-фразу."),
    ("uk", "Ми ніколи не запитуємо ваш пароль."),
    ("uk", "Надішліть, будь ласка, хеш транзакції."),
    # Spanish
    ("es", "Nunca compartas tu frase semilla."),
    ("es", "Nunca le pediremos su contraseña."),
    ("es", "No comparta su código de verificación con nadie."),
    ("es", "Puede restablecer su contraseña desde la aplicación."),
    ("es", "Por favor, envíenos el TxID de la transacción."),
    # Turkish
    ("tr", "Kurtarma ifadenizi asla kimseyle paylaşmayın."),
    ("tr", "Sizden asla şifrenizi istemeyiz."),
    ("tr", "Şifrenizi sıfırlamak için bağlantıyı kullanın."),
    ("tr", "Lütfen işlem kimliğini (TxID) bize gönderin."),
    # Chinese
    ("zh", "请勿向任何人透露您的助记词"),
    ("zh", "我们绝不会向您索要密码。"),
    ("zh", "请不要把您的助记词发给任何人。"),
    ("zh", "您可以在设置中修改密码。"),
    ("zh", "请提供交易哈希（TxID）。"),
    ("zh", "谨防诈骗：骗子可能会让您提供验证码。"),
]


@pytest.mark.parametrize("lang, text", SAFE_TEXTS)
def test_warnings_and_mentions_do_not_block(lang, text):
    report = check_reply(text)
    assert not report.blocked, report.lines()


def test_every_language_has_lexicon_and_is_exercised():
    langs = {"en", "ru", "uk", "es", "tr", "zh"}
    assert langs <= set(DEFAULT_LEXICON)
    assert langs <= {lang for lang, _, _ in SECRET_REQUESTS}
    assert langs <= {lang for lang, _ in SAFE_TEXTS}


def test_lexicon_override_adds_words():
    text = "Stuur ons alstublieft uw wachtwoord."  # Dutch: not among the default languages
    assert not check_reply(text).blocked
    lexicon = {"nl": {"secrets": {"password": [r"\bwachtwoord\w*"]}, "requests": [r"\bstuur\s+ons\b"]}}
    assert check_reply(text, lexicon=lexicon).codes == ["asks_for_password"]
    # the default languages are still there
    assert check_reply("Please send us your password.", lexicon=lexicon).blocked


def test_lexicon_override_replaces_and_appends():
    text = "Kindly forward the magic words to us."
    assert not check_reply(text).blocked
    extended = {"en": {"secrets": {"seed_phrase+": [r"\bmagic\s+words\b"]}}}
    assert check_reply(text, lexicon=extended).codes == ["asks_for_seed_phrase"]
    assert check_reply("Please send us your seed phrase.", lexicon=extended).blocked  # appended, not replaced
    replaced = {"en": {"requests": [r"\bkindly\s+forward\b"]}}
    assert not check_reply("Please send us your seed phrase.", lexicon=replaced).blocked


def test_bad_lexicon_is_one_clear_error():
    with pytest.raises(ValueError, match=r"lexicon en\.requests\[0\]: bad pattern"):
        check_reply("x", lexicon={"en": {"requests": ["(unclosed"]}})
    with pytest.raises(ValueError, match="unknown kind"):
        check_reply("x", lexicon={"en": {"secrets": {"pin": ["x"]}}})


def test_default_macros_never_block():
    from agent_tui.macros.defaults import default_macros
    from agent_tui.macros.render import render

    full = {
        "ticket": {"id": 9},
        "customer": {"first_name": "Ana"},
        "agent": {"name": "Kim"},
        "deposit": {"txid": "0x" + "ab" * 32, "network": "ERC20", "confirmations": 3, "required_confirmations": 12},
    }
    for m in default_macros():
        for lang in m.bodies:
            for ctx in (full, {}):
                report = check_reply(render(m, ctx, language=lang).text, allowed_domains=ALLOWED)
                assert not report.blocked, (m.key, lang, report.lines())
            assert check_reply(render(m, full, language=lang).text, allowed_domains=ALLOWED).ok


def test_security_macro_mentions_secrets_and_is_caught_when_negation_removed():
    # proves the default macro is safe because of negation handling, not because nothing matched
    from agent_tui.macros.defaults import default_macros

    body = next(m for m in default_macros() if m.key == "account_locked_security").bodies["ru"]
    assert "сид-фразу" in body
    assert check_reply("Мы запрашиваем пароль, коды 2FA, сид-фразу.").blocked


# --- WARN: links and look-alike domains ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "See https://example.com/help",
        "See https://help.example.com/deposit?x=1.",
        "Open www.example.com/fees, then the app.",
        "Status page: status.example.com",
        "Images at https://img.examplecdn.net/a.png",
        "Write to support@example.com",
        "Attach file.pdf e.g. the screenshot, v1.2 of the app.Please wait.",
        "请访问 https://www.example.com/zh 查看。",
    ],
)
def test_allowed_links_pass(text):
    assert check_reply(text, allowed_domains=ALLOWED).ok, check_reply(text, allowed_domains=ALLOWED).lines()


@pytest.mark.parametrize(
    "text, code, fragment",
    [
        ("Log in at https://examp1e.com/login", "lookalike_domain", "examp1e.com"),
        ("Log in at https://exarnple.com", "lookalike_domain", "exarnple.com"),
        ("Visit example-support.com to verify", "lookalike_domain", "example-support.com"),
        ("Visit https://exampleverify.io", "lookalike_domain", "exampleverify.io"),
        ("Go to https://example.com.evil.io/login", "lookalike_domain", "evil.io"),
        ("Go to https://xn--exmple-cua.com", "lookalike_domain", "xn--exmple-cua.com"),
        ("Go to http://exаmple.com (Cyrillic a)", "lookalike_domain", "example.com"),
        ("Go to https://exmaple.com", "lookalike_domain", "misspelling"),
        ("Go to https://example.co/", "lookalike_domain", "example.co"),
        ("Go to https://example.com@evil.io/", "lookalike_domain", "evil.io"),
        ("Contact support@examp1e.com", "lookalike_domain", "examp1e.com"),
        ("Download from https://google.com", "foreign_link", "google.com"),
        ("Download from http://192.168.0.1/x", "foreign_link", "192.168.0.1"),
        ("请访问evil.io领取", "foreign_link", "evil.io"),
    ],
)
def test_bad_links_warn(text, code, fragment):
    report = check_reply(text, allowed_domains=ALLOWED)
    assert not report.blocked
    assert [f.code for f in report.warnings] == [code], report.lines()
    assert fragment in report.warnings[0].reason


def test_unrelated_foreign_domain_is_not_called_lookalike():
    assert lookalike_of("coinmarketcap.com", ALLOWED) is None
    assert lookalike_of("examp1e.com", ALLOWED)[0] == "example.com"


def test_no_allowlist_means_every_link_warns():
    assert codes("https://example.com") == ["foreign_link"]


# --- WARN: crypto addresses ------------------------------------------------------------------------------

EVM = "0x52908400098527886E0F7030069857D2E4169EE7"
TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
BTC = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
BTC_P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
BTC_BECH32 = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
XRP = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"
LTC_L = base58.b58encode_check(b"\x30" + bytes(range(20))).decode()
LTC_M = base58.b58encode_check(b"\x32" + bytes(range(1, 21))).decode()
LTC_BECH32 = bech32.encode("ltc", 0, bytes(range(20)))

ALL_ADDRESSES = [("EVM", EVM), ("Tron", TRON), ("Bitcoin", BTC), ("Bitcoin", BTC_P2SH), ("Bitcoin", BTC_BECH32),
                 ("XRP", XRP), ("Litecoin", LTC_L), ("Litecoin", LTC_M), ("Litecoin", LTC_BECH32)]


@pytest.mark.parametrize("chain, address", ALL_ADDRESSES)
def test_unknown_address_warns(chain, address):
    report = check_reply(f"Please send the funds to {address} today.")
    assert report.codes == ["unknown_address"]
    assert chain in report.warnings[0].reason


@pytest.mark.parametrize("chain, address", ALL_ADDRESSES)
def test_customer_and_exchange_addresses_pass(chain, address):
    text = f"Your deposit address is {address}."
    assert check_reply(text, customer_addresses=[address]).ok
    assert check_reply(text, exchange_addresses=[{"address": address}]).ok


def test_evm_and_bech32_compare_case_insensitively():
    assert check_reply(f"Address {EVM.lower()}", customer_addresses=[EVM]).ok
    assert check_reply(f"Address {BTC_BECH32.upper()}", customer_addresses=[BTC_BECH32]).ok


def test_customer_address_does_not_cover_a_different_one():
    report = check_reply(f"Use {EVM} or {TRON}", customer_addresses=[EVM])
    assert [f.match for f in report.warnings] == [TRON]


@pytest.mark.parametrize(
    "text",
    [
        "TxID 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
        "TxID 5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
        "Typo: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u",  # bad checksum: not an address
        "Ticket 123456789012345678901234567 and order 3000000000000000000000000000",
        "Reference rAbcdefghijkmnopqrstuvwxyz12",
    ],
)
def test_non_addresses_do_not_warn(text):
    assert check_reply(text).ok, check_reply(text).lines()


def test_find_addresses_names_chains():
    assert find_addresses(f"{EVM} {XRP}") == [("EVM", EVM), ("XRP", XRP)]


# --- WARN: placeholders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, token",
    [
        ("TxID: ⟦deposit.txid⟧", "⟦deposit.txid⟧"),
        ("Hi {{customer.first_name}}", "{{customer.first_name}}"),
        ("Hi {{ customer.first_name", "{{"),
        ("{% if x %}y{% endif %}", "{% if x %}"),
        ("Hallo #{ticket.customer.firstname}", "#{ticket.customer.firstname}"),
    ],
)
def test_unfilled_placeholders_warn(text, token):
    report = check_reply(text)
    assert report.codes == ["unfilled_placeholder"]
    assert token in report.warnings[0].reason


@pytest.mark.parametrize("text", ["Fee is {0.1%}", "Use [brackets] and (parens)", "Set {x} in JSON {\"a\": 1}"])
def test_ordinary_braces_do_not_warn(text):
    assert check_reply(text).ok


def test_rendered_missing_field_is_caught_end_to_end():
    from agent_tui.macros.render import render_string

    text, missing = render_string("Your TxID {{ deposit.txid }}", {})
    assert missing == ["deposit.txid"]
    assert check_reply(text).codes == ["unfilled_placeholder"]


# --- the report and overrides -----------------------------------------------------------------------------


def test_report_orders_blocks_first_and_lists_warnings():
    text = f"Please send us your seed phrase at https://examp1e.com to {EVM} ⟦agent.name⟧"
    report = check_reply(text, allowed_domains=ALLOWED)
    assert report.blocked and not report.ok and report.needs_override
    assert report.codes == ["asks_for_seed_phrase", "lookalike_domain", "unknown_address", "unfilled_placeholder"]
    assert [f.code for f in report.blocks] == ["asks_for_seed_phrase"]
    assert len(report.warnings) == 3
    assert all(line.count("\n") == 0 for line in report.lines())


def test_clean_reply_is_ok():
    report = check_reply("Your deposit was credited. See https://example.com/help", allowed_domains=ALLOWED)
    assert report.ok and not report.blocked and report.warnings == []


def test_record_override_logs_time_agent_codes_reason():
    report = check_reply(f"Send to {TRON}")
    entry = record_override(report, 42, "  Customer's own withdrawal address,\n confirmed by phone ", now=1718028000.0)
    assert entry["agent_id"] == 42
    assert entry["codes"] == ["unknown_address"]
    assert entry["reason"] == "Customer's own withdrawal address, confirmed by phone"
    assert entry["at"] == 1718028000.0 and entry["time"] == "2024-06-10T14:00:00Z"
    assert entry["blocked"] is False
    assert entry["findings"][0]["code"] == "unknown_address"
    assert len(entry["text_sha256"]) == 64


def test_override_uses_the_clock_by_default():
    import time

    before = time.time()
    entry = record_override(check_reply("⟦x⟧"), "agent-7", "tested")
    assert before <= entry["at"] <= time.time()


@pytest.mark.parametrize(
    "report, agent, reason, message",
    [
        (GuardReport(), 1, "why", "nothing to override"),
        (check_reply("⟦x⟧"), 1, "   ", "reason"),
        (check_reply("⟦x⟧"), None, "why", "agent"),
        (check_reply("⟦x⟧"), "", "why", "agent"),
    ],
)
def test_override_needs_findings_agent_and_reason(report, agent, reason, message):
    with pytest.raises(ValueError, match=message):
        record_override(report, agent, reason)


@pytest.mark.parametrize("theirs, quoted", [
    ("MQMHBtvnBfxTzt3K2bdxgSE7qZPHSXWsGM", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),  # Litecoin P2SH: new and old form
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "MQMHBtvnBfxTzt3K2bdxgSE7qZPHSXWsGM"),
    (BTC_BECH32.upper(), BTC_BECH32),  # bech32 in upper case is the same address
    (EVM.lower(), EVM),  # any checksum case
])
def test_the_customers_address_in_another_encoding_is_still_theirs(theirs, quoted):
    report = check_reply(f"Your deposit address is {quoted}.", customer_addresses=[theirs])
    assert "unknown_address" not in report.codes


# --- the lexicon is data, extensible from the desk's config ------------------------------------------------


def test_default_lexicon_is_one_file_per_language():
    from agent_tui.macros.guard import LEXICON_DIR

    files = {p.stem for p in LEXICON_DIR.glob("*.toml")}
    assert files == set(DEFAULT_LEXICON)
    assert {"en", "ru", "uk", "es", "tr", "zh"} <= files


def test_config_lexicon_files_and_table_extend_the_guard(tmp_path):
    from agent_tui.config import Settings
    from agent_tui.macros.guard import settings_lexicon

    text = "Stuur ons uw wachtwoord."  # Dutch
    assert not check_reply(text).blocked
    (tmp_path / "nl.toml").write_text("requests = ['\\bstuur\\s+ons\\b']\n[secrets]\npassword = ['\\bwachtwoord']\n",
                                      encoding="utf-8")
    settings = Settings(guard_lexicon_paths=[str(tmp_path)])
    assert check_reply(text, lexicon=settings_lexicon(settings)).codes == ["asks_for_password"]
    assert check_reply("Please send us your password.", lexicon=settings_lexicon(settings)).blocked
    # a table in the config appends over the files
    extra = {"en": {"secrets": {"seed_phrase+": [r"\bmagic\s+words\b"]}}}
    settings = Settings(guard_lexicon_paths=[str(tmp_path / "nl.toml")], guard_lexicon=extra)
    lexicon = settings_lexicon(settings)
    assert check_reply("Please send us the magic words.", lexicon=lexicon).codes == ["asks_for_seed_phrase"]
    assert check_reply(text, lexicon=lexicon).blocked
    assert settings_lexicon(Settings()) is None


def test_a_missing_lexicon_file_is_one_clear_error(tmp_path):
    from agent_tui.config import Settings
    from agent_tui.macros.guard import settings_lexicon

    with pytest.raises(ValueError, match="lexicon file .*nope.toml: not found"):
        settings_lexicon(Settings(guard_lexicon_paths=[str(tmp_path / "nope.toml")]))
    (tmp_path / "bad.toml").write_text("requests = [", encoding="utf-8")
    with pytest.raises(ValueError, match="lexicon file .*bad.toml"):
        settings_lexicon(Settings(guard_lexicon_paths=[str(tmp_path / "bad.toml")]))


# --- normalisation against evasion ---------------------------------------------------------------------

EVASIONS = [
    ("Please send us your S E E D phrase.", "asks_for_seed_phrase"),  # spaced letters
    ("Please send us your s.e.e.d p.h.r.a.s.e", "asks_for_seed_phrase"),
    ("Kindly share your seed-phrase with me.", "asks_for_seed_phrase"),  # hyphenated
    ("Please send us your private_key.", "asks_for_private_key"),
    ("Please send us your s\u0435\u0435d phrase.", "asks_for_seed_phrase"),  # Cyrillic е in a Latin word
    ("Please send us your \u0455\u0435\u0435\u0501 phrase.", "asks_for_seed_phrase"),  # every letter a look-alike
    ("Please send us your pri\u03bdate key.", "asks_for_private_key"),  # Greek ν
    ("Пришлите ваш п\u0061роль.", "asks_for_password"),  # Latin a in a Cyrillic word
    ("Send me your p4ssw0rd now.", "asks_for_password"),  # digits for letters
    ("PLEASE SEND US YOUR PRIVATE KEY", "asks_for_private_key"),
    ("Please send us your pass\u2060word.", "asks_for_password"),  # word joiner
    ("Please send us your pass\u202eword.", "asks_for_password"),  # bidi override
    ("Please send us your ＰＡＳＳＷＯＲＤ.", "asks_for_password"),  # full width
    ("Lütfen ŞİFRENİZİ İLETİN.", "asks_for_password"),  # Turkish dotted capitals fold
]


@pytest.mark.parametrize("text, code", EVASIONS)
def test_simple_evasion_still_blocks(text, code):
    assert code in check_reply(text).codes, text


@pytest.mark.parametrize("text", [
    "Please send us the TXID 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060.",
    "Use a strong passphrase manager? No: please reset your password in the app.",
    "Мы никогда не просим пароль.",
    "Send us the screenshot of the e-mail, please.",
])
def test_normalisation_does_not_invent_requests(text):
    assert not check_reply(text).blocked, check_reply(text).lines()


def test_links_and_addresses_keep_their_case():
    # the lexical form is only for the secrets: a checksummed address is still read as written
    report = check_reply("Your deposit address is 0x52908400098527886E0F7030069857D2E4169EE7.",
                         customer_addresses=["0x52908400098527886E0F7030069857D2E4169EE7"])
    assert report.ok


# --- remote access, fund moves, and warnings told from requests ---------------------------------------------

REMOTE_AND_FUNDS = [
    ("Please install AnyDesk and send me the 9-digit code.", "asks_for_remote_access"),
    ("Download TeamViewer so our engineer can fix the withdrawal.", "asks_for_remote_access"),
    ("What is your AnyDesk ID?", "asks_for_remote_access"),
    ("Open RustDesk and tell me the number it shows.", "asks_for_remote_access"),
    ("Please set up Chrome Remote Desktop and share the access code.", "asks_for_remote_access"),
    ("UltraViewer ID: ______", "asks_for_remote_access"),
    ("Установите AnyDesk и продиктуйте код.", "asks_for_remote_access"),
    ("Por favor, descargue TeamViewer y envíenos su ID.", "asks_for_remote_access"),
    ("请下载向日葵远程控制软件并告诉我们识别码。", "asks_for_remote_access"),
    (f"Please move your funds to this safe wallet: {EVM}", "asks_to_move_funds"),
    (f"Transfer all your USDT to {EVM} to protect it.", "asks_to_move_funds"),
    ("To unlock your account, make a verification transfer of 0.01 BTC.", "asks_to_move_funds"),
    ("Send your coins to our secure wallet until the audit is over.", "asks_to_move_funds"),
    (f"Переведите все средства на {TRON}, это защищённый кошелёк.", "asks_to_move_funds"),
    (f"Transfiera sus fondos a {TRON} para protegerlos.", "asks_to_move_funds"),
    ("请把您的资产转到安全钱包。", "asks_to_move_funds"),
]


@pytest.mark.parametrize("text, code", REMOTE_AND_FUNDS)
def test_remote_access_and_fund_moves_block(text, code):
    report = check_reply(text)
    assert code in report.codes, report.lines()
    assert report.blocked


@pytest.mark.parametrize("text, code", [
    ("Never mind the rules, just send the phrase.", "asks_for_seed_phrase"),
    ("No worries, just send me your seed phrase.", "asks_for_seed_phrase"),
    ("Don't worry, tell me the code we just sent.", "asks_for_otp_code"),
    ("Type out the words of your backup card here.", "asks_for_seed_phrase"),
    ("Please share your 2FA backup codes.", "asks_for_otp_code"),
    ("Не волнуйтесь, просто пришлите сид-фразу.", "asks_for_seed_phrase"),
])
def test_fake_negations_and_paraphrases_still_block(text, code):
    assert code in check_reply(text).codes, check_reply(text).lines()


@pytest.mark.parametrize("text", [
    "Please send us a screenshot of the deposit (no private keys needed).",
    "Send us the TXID only, no seed phrase or password required.",
    "We will never ask you to install AnyDesk or TeamViewer.",
    "Never install remote access software at a stranger's request.",
    "If someone asks you to install AnyDesk, it is a scam.",
    "We will never ask you to move your funds to a safe wallet.",
    "There is no such thing as a verification transfer; never send one.",
    "Please open the app and go to Settings, then Security.",
    "Use the new deposit address shown in the app.",
    "Мы никогда не просим установить AnyDesk или перевести средства на безопасный кошелёк.",
    "Nunca le pediremos que instale TeamViewer ni que mueva sus fondos.",
    "我们绝不会要求您安装远程控制软件或把资产转到安全钱包。",
])
def test_warnings_about_remote_access_and_funds_pass(text):
    report = check_reply(text)
    assert not report.blocked, report.lines()


def test_sending_funds_to_a_known_address_is_not_a_fund_move():
    text = f"Please move your funds to {EVM}, your own withdrawal address."
    assert "asks_to_move_funds" in check_reply(text).codes
    assert check_reply(text, customer_addresses=[EVM]).ok


NEW_LANGUAGES = [
    ("de", "Bitte senden Sie uns Ihre Seed-Phrase.", "Geben Sie Ihre Seed-Phrase niemals weiter."),
    ("fr", "Envoyez-nous votre phrase de récupération.", "Ne communiquez jamais votre phrase de récupération."),
    ("pt", "Por favor, envie sua frase de recuperação.", "Nunca compartilhe sua frase de recuperação."),
    ("it", "Inviaci la tua frase di recupero.", "Non condividere mai la tua frase di recupero."),
    ("pl", "Proszę podać kod SMS.", "Nigdy nie podawaj nikomu kodu SMS."),
    ("vi", "Vui lòng gửi mã OTP cho chúng tôi.", "Tuyệt đối không chia sẻ mã OTP với bất kỳ ai."),
    ("ko", "비밀번호를 알려 주세요.", "비밀번호는 절대 알려 주지 마세요."),
    ("ja", "秘密鍵を送ってください。", "秘密鍵は絶対に誰にも教えないでください。"),
    ("id", "Mohon kirimkan kode OTP Anda.", "Jangan pernah memberikan kode OTP kepada siapa pun."),
    ("th", "กรุณาส่งรหัส OTP มาให้เรา", "ห้ามบอกรหัส OTP กับใครเด็ดขาด"),
    ("ar", "أرسل لنا عبارة الاسترداد الخاصة بك.", "لا تشارك عبارة الاسترداد أبدا مع أي شخص."),
    ("fa", "لطفاً کلید خصوصی خود را ارسال کنید.", "هرگز کلید خصوصی خود را به کسی ندهید."),
    ("hi", "कृपया अपना ओटीपी भेजें।", "अपना ओटीपी कभी भी किसी के साथ शेयर न करें।"),
    ("zh-Hant", "請提供您的助記詞。", "請勿向任何人透露您的助記詞。"),
]


@pytest.mark.parametrize("lang, request_text, warning", NEW_LANGUAGES)
def test_twenty_languages(lang, request_text, warning):
    assert lang in DEFAULT_LEXICON
    assert check_reply(request_text).blocked, request_text
    assert not check_reply(warning).blocked, check_reply(warning).lines()
    assert len(DEFAULT_LEXICON) >= 20
