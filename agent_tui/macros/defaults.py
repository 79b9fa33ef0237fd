"""The shared macros a crypto exchange desk starts with (en, ru, es, tr, zh).

Deposit macros are keyed `deposit_<verdict code>` for the deposit look-up's verdict codes, so a
verdict can offer its macro directly. None of these may trip the reply guard's BLOCK (tested).
Never imports textual, widgets or themes.
"""

from __future__ import annotations

from agent_tui.macros.model import Macro

DEPOSIT_VERDICT_CODES = (
    "credited",
    "pending",
    "insufficient_confirmations",
    "failed",
    "wrong_address",
    "missing_memo",
    "wrong_memo",
    "wrong_network",
    "unsupported_token",
    "below_minimum",
    "not_found",
    "needs_manual_credit",
    "dropped",
    "check_ledger",
)

_HI = {
    "en": 'Hello {{ customer.first_name | default("there") }},\n\n',
    "ru": 'Здравствуйте{% if customer.first_name %}, {{ customer.first_name }}{% endif %}!\n\n',
    "es": 'Hola {{ customer.first_name | default("") }}:\n\n',
    "tr": 'Merhaba {{ customer.first_name | default("") }},\n\n',
    "zh": '{{ customer.first_name | default("") }}您好，\n\n',
}
_BYE = {
    "en": "\n\nBest regards,\n{{ agent.name }}\nSupport team (ticket #{{ ticket.id }})",
    "ru": "\n\nС уважением,\n{{ agent.name }}\nСлужба поддержки (обращение №{{ ticket.id }})",
    "es": "\n\nSaludos cordiales,\n{{ agent.name }}\nEquipo de soporte (ticket n.º {{ ticket.id }})",
    "tr": "\n\nSaygılarımızla,\n{{ agent.name }}\nDestek ekibi (talep no. {{ ticket.id }})",
    "zh": "\n\n此致\n{{ agent.name }}\n客服团队（工单号 {{ ticket.id }}）",
}


def _wrap(bodies: dict[str, str]) -> dict[str, str]:
    return {lang: _HI[lang] + text.strip() + _BYE[lang] for lang, text in bodies.items()}


def _pending(*tags: str, hours: int = 24) -> list[dict]:
    return [
        {"type": "set_status", "value": "pending"},
        {"type": "add_tags", "value": list(tags)},
        {"type": "pending_reminder", "value": hours},
    ]


def _solved(*tags: str) -> list[dict]:
    return [{"type": "set_status", "value": "solved"}, {"type": "add_tags", "value": list(tags)}]


_SPECS: list[dict] = [
    {
        "key": "greeting_ack",
        "title": "Greeting / we are on it",
        "category": "general",
        "shortcut": "ack",
        "actions": [{"type": "assign_me"}, {"type": "set_status", "value": "open"}],
        "bodies": {
            "en": "Thank you for contacting us. I have taken your request and I am looking into it now; I will update you as soon as I have news.",
            "ru": "Спасибо за обращение. Я взял(а) ваш запрос в работу и уже разбираюсь; сообщу, как только появятся новости.",
            "es": "Gracias por contactarnos. He tomado su solicitud y la estoy revisando ahora; le informaré en cuanto tenga novedades.",
            "tr": "Bizimle iletişime geçtiğiniz için teşekkür ederiz. Talebinizi üstlendim ve şu anda inceliyorum; gelişme olur olmaz size bilgi vereceğim.",
            "zh": "感谢您联系我们。我已接手您的问题并正在处理，一有进展会第一时间通知您。",
        },
    },
    {
        "key": "deposit_credited",
        "title": "Deposit: already credited",
        "category": "deposits",
        "shortcut": "dcredited",
        "actions": _solved("deposit", "deposit_credited"),
        "bodies": {
            "en": "Your deposit with TxID {{ deposit.txid }} on {{ deposit.network }} has been credited to your account. Please check your balance and deposit history in the app. If something still looks wrong, just reply to this message.",
            "ru": "Ваш депозит с TxID {{ deposit.txid }} в сети {{ deposit.network }} зачислен на ваш счёт. Проверьте баланс и историю пополнений в приложении. Если что-то по-прежнему не так, просто ответьте на это сообщение.",
            "es": "Su depósito con TxID {{ deposit.txid }} en la red {{ deposit.network }} ya se ha acreditado en su cuenta. Revise su saldo y el historial de depósitos en la aplicación. Si algo sigue sin cuadrar, responda a este mensaje.",
            "tr": "{{ deposit.network }} ağındaki {{ deposit.txid }} TxID'li yatırımınız hesabınıza aktarılmıştır. Lütfen uygulamadaki bakiyenizi ve yatırma geçmişinizi kontrol edin. Hâlâ bir sorun görürseniz bu mesajı yanıtlamanız yeterli.",
            "zh": "您在 {{ deposit.network }} 网络上 TxID 为 {{ deposit.txid }} 的充值已到账。请在 App 中查看余额和充值记录。如仍有疑问，请直接回复此消息。",
        },
    },
    {
        "key": "deposit_pending",
        "title": "Deposit: not yet confirmed on-chain",
        "category": "deposits",
        "shortcut": "dpending",
        "actions": _pending("deposit", "deposit_pending", hours=2),
        "bodies": {
            "en": "Your deposit {{ deposit.txid }} on {{ deposit.network }} has not been included in a block yet. It will be credited automatically once the network confirms it; no action is needed on your side.",
            "ru": "Ваш депозит {{ deposit.txid }} в сети {{ deposit.network }} ещё не включён в блок. Он будет зачислен автоматически после подтверждения сетью; с вашей стороны ничего делать не нужно.",
            "es": "Su depósito {{ deposit.txid }} en {{ deposit.network }} aún no se ha incluido en un bloque. Se acreditará automáticamente cuando la red lo confirme; no necesita hacer nada.",
            "tr": "{{ deposit.network }} ağındaki {{ deposit.txid }} yatırımınız henüz bir bloğa eklenmedi. Ağ onayladığında otomatik olarak hesabınıza geçecektir; sizin bir şey yapmanıza gerek yok.",
            "zh": "您在 {{ deposit.network }} 上的充值 {{ deposit.txid }} 尚未被打包进区块。网络确认后将自动到账，您无需进行任何操作。",
        },
    },
    {
        "key": "deposit_insufficient_confirmations",
        "title": "Deposit: waiting for confirmations",
        "category": "deposits",
        "shortcut": "dconf",
        "actions": _pending("deposit", "deposit_confirming", hours=2),
        "bodies": {
            "en": "Your deposit {{ deposit.txid }} on {{ deposit.network }} has {{ deposit.confirmations }} of the {{ deposit.required_confirmations }} confirmations we require. It will be credited automatically when the required number is reached.",
            "ru": "У вашего депозита {{ deposit.txid }} в сети {{ deposit.network }} {{ deposit.confirmations }} из {{ deposit.required_confirmations }} необходимых подтверждений. Он будет зачислен автоматически, когда их станет достаточно.",
            "es": "Su depósito {{ deposit.txid }} en {{ deposit.network }} tiene {{ deposit.confirmations }} de las {{ deposit.required_confirmations }} confirmaciones necesarias. Se acreditará automáticamente al alcanzarlas.",
            "tr": "{{ deposit.network }} ağındaki {{ deposit.txid }} yatırımınız gereken {{ deposit.required_confirmations }} onaydan {{ deposit.confirmations }} tanesini aldı. Gerekli sayıya ulaşıldığında otomatik olarak hesabınıza geçecektir.",
            "zh": "您在 {{ deposit.network }} 上的充值 {{ deposit.txid }} 目前已有 {{ deposit.confirmations }} 个确认，需要 {{ deposit.required_confirmations }} 个。达到要求后将自动到账。",
        },
    },
    {
        "key": "deposit_failed",
        "title": "Deposit: transaction failed on-chain",
        "category": "deposits",
        "shortcut": "dfailed",
        "actions": _solved("deposit", "deposit_failed"),
        "bodies": {
            "en": "The transaction {{ deposit.txid }} failed on the {{ deposit.network }} network, so no funds were transferred to us. The funds remain in the sending wallet (minus the network fee). Please contact the sending wallet or platform, then send the deposit again.",
            "ru": "Транзакция {{ deposit.txid }} завершилась ошибкой в сети {{ deposit.network }}, поэтому средства к нам не поступили. Они остались на кошельке отправителя (за вычетом комиссии сети). Обратитесь в кошелёк или на платформу, с которой делали перевод, и отправьте депозит повторно.",
            "es": "La transacción {{ deposit.txid }} falló en la red {{ deposit.network }}, por lo que no recibimos fondos. Los fondos siguen en la billetera de origen (menos la comisión de red). Contacte con la billetera o plataforma de origen y vuelva a enviar el depósito.",
            "tr": "{{ deposit.txid }} işlemi {{ deposit.network }} ağında başarısız oldu, bu nedenle bize herhangi bir fon ulaşmadı. Fonlar gönderen cüzdanda duruyor (ağ ücreti hariç). Lütfen gönderim yaptığınız cüzdan veya platformla iletişime geçip yatırımı yeniden yapın.",
            "zh": "交易 {{ deposit.txid }} 在 {{ deposit.network }} 网络上执行失败，资金并未转入我们的地址，仍在发送方钱包中（扣除网络手续费）。请联系发送方钱包或平台后重新充值。",
        },
    },
    {
        "key": "deposit_wrong_address",
        "title": "Deposit: sent to another address",
        "category": "deposits",
        "shortcut": "daddr",
        "actions": [
            {"type": "set_status", "value": "pending"},
            {"type": "add_tags", "value": ["deposit", "deposit_wrong_address"]},
            {"type": "set_queue", "value": "recovery"},
        ],
        "bodies": {
            "en": "The transaction {{ deposit.txid }} was sent to an address that is not your deposit address with us. We have passed the case to our recovery team to check whether the address belongs to the exchange; recovery is not guaranteed. We will update you within 3 business days.",
            "ru": "Транзакция {{ deposit.txid }} отправлена на адрес, который не является вашим адресом для пополнения у нас. Мы передали обращение команде по восстановлению средств, чтобы проверить, принадлежит ли адрес бирже; возврат не гарантирован. Мы сообщим результат в течение 3 рабочих дней.",
            "es": "La transacción {{ deposit.txid }} se envió a una dirección que no es su dirección de depósito con nosotros. Hemos pasado el caso al equipo de recuperación para comprobar si la dirección pertenece al exchange; la recuperación no está garantizada. Le informaremos en un plazo de 3 días hábiles.",
            "tr": "{{ deposit.txid }} işlemi, bizdeki yatırma adresiniz olmayan bir adrese gönderilmiş. Adresin borsaya ait olup olmadığını kontrol etmesi için talebinizi kurtarma ekibimize ilettik; iade garanti değildir. 3 iş günü içinde size bilgi vereceğiz.",
            "zh": "交易 {{ deposit.txid }} 发送到的地址并不是您在本平台的充值地址。我们已将此案转交资产找回团队，核实该地址是否属于本平台；找回不作保证。我们会在 3 个工作日内回复您。",
        },
    },
    {
        "key": "deposit_missing_memo",
        "title": "Deposit: memo/tag missing",
        "category": "deposits",
        "shortcut": "memo",
        "actions": [
            {"type": "set_status", "value": "pending"},
            {"type": "add_tags", "value": ["deposit", "deposit_missing_memo"]},
            {"type": "set_queue", "value": "recovery"},
        ],
        "bodies": {
            "en": "Your {{ deposit.network }} deposit {{ deposit.txid }} arrived without the memo/tag that identifies your account, so it could not be credited automatically. To recover it, please reply with the token, the amount, the sending address and a screenshot of the withdrawal record from the sending platform. A recovery fee may apply.",
            "ru": "Ваш депозит {{ deposit.txid }} в сети {{ deposit.network }} поступил без мемо/тега, по которому мы определяем ваш аккаунт, поэтому не был зачислен автоматически. Для возврата ответьте, пожалуйста, указав токен, сумму, адрес отправителя и скриншот записи о выводе на платформе-отправителе. Может взиматься комиссия за восстановление.",
            "es": "Su depósito {{ deposit.txid }} en {{ deposit.network }} llegó sin el memo/etiqueta que identifica su cuenta, por lo que no se pudo acreditar automáticamente. Para recuperarlo, responda indicando el token, el importe, la dirección de envío y una captura del registro de retiro de la plataforma de origen. Puede aplicarse una comisión de recuperación.",
            "tr": "{{ deposit.network }} ağındaki {{ deposit.txid }} yatırımınız, hesabınızı tanımlayan memo/etiket olmadan geldiği için otomatik olarak aktarılamadı. Geri almak için lütfen token, tutar, gönderen adres ve gönderen platformdaki çekim kaydının ekran görüntüsü ile yanıt verin. Kurtarma ücreti uygulanabilir.",
            "zh": "您在 {{ deposit.network }} 上的充值 {{ deposit.txid }} 未填写用于识别账户的 Memo/标签，因此无法自动入账。如需找回，请回复币种、金额、发送地址以及发送平台提币记录的截图。可能会收取找回手续费。",
        },
    },
    {
        "key": "deposit_wrong_memo",
        "title": "Deposit: wrong memo/tag",
        "category": "deposits",
        "shortcut": "wmemo",
        "actions": [
            {"type": "set_status", "value": "pending"},
            {"type": "add_tags", "value": ["deposit", "deposit_wrong_memo"]},
            {"type": "set_queue", "value": "recovery"},
        ],
        "bodies": {
            "en": "Your {{ deposit.network }} deposit {{ deposit.txid }} was sent with a memo/tag that does not match your account. Please reply with the token, the amount, the sending address and a screenshot of the withdrawal record, and we will open a recovery case. A recovery fee may apply.",
            "ru": "Ваш депозит {{ deposit.txid }} в сети {{ deposit.network }} отправлен с мемо/тегом, который не совпадает с вашим аккаунтом. Ответьте, пожалуйста, указав токен, сумму, адрес отправителя и скриншот записи о выводе, и мы откроем заявку на восстановление. Может взиматься комиссия.",
            "es": "Su depósito {{ deposit.txid }} en {{ deposit.network }} se envió con un memo/etiqueta que no corresponde a su cuenta. Responda con el token, el importe, la dirección de envío y una captura del registro de retiro, y abriremos un caso de recuperación. Puede aplicarse una comisión.",
            "tr": "{{ deposit.network }} ağındaki {{ deposit.txid }} yatırımınız hesabınızla eşleşmeyen bir memo/etiket ile gönderilmiş. Lütfen token, tutar, gönderen adres ve çekim kaydının ekran görüntüsü ile yanıt verin; bir kurtarma talebi açacağız. Ücret uygulanabilir.",
            "zh": "您在 {{ deposit.network }} 上的充值 {{ deposit.txid }} 填写的 Memo/标签与您的账户不符。请回复币种、金额、发送地址和提币记录截图，我们将为您提交找回申请。可能会收取手续费。",
        },
    },
    {
        "key": "deposit_wrong_network",
        "title": "Deposit: sent on the wrong network",
        "category": "deposits",
        "shortcut": "dnet",
        "actions": [
            {"type": "set_status", "value": "pending"},
            {"type": "add_tags", "value": ["deposit", "deposit_wrong_network"]},
            {"type": "set_queue", "value": "recovery"},
        ],
        "bodies": {
            "en": "The transaction {{ deposit.txid }} was made on {{ deposit.network }}, a network that this deposit address does not support. Our recovery team will check whether the funds can be retrieved; this is decided case by case and a fee applies. We will update you within 5 business days.",
            "ru": "Транзакция {{ deposit.txid }} отправлена в сети {{ deposit.network }}, которую этот адрес для пополнения не поддерживает. Команда по восстановлению проверит, можно ли вернуть средства; решение принимается индивидуально, взимается комиссия. Мы сообщим результат в течение 5 рабочих дней.",
            "es": "La transacción {{ deposit.txid }} se realizó en {{ deposit.network }}, una red que esta dirección de depósito no admite. Nuestro equipo de recuperación comprobará si es posible recuperar los fondos; se decide caso por caso y se aplica una comisión. Le informaremos en un plazo de 5 días hábiles.",
            "tr": "{{ deposit.txid }} işlemi, bu yatırma adresinin desteklemediği {{ deposit.network }} ağında yapılmış. Kurtarma ekibimiz fonların geri alınıp alınamayacağını inceleyecek; karar duruma göre verilir ve ücret uygulanır. 5 iş günü içinde size bilgi vereceğiz.",
            "zh": "交易 {{ deposit.txid }} 是在 {{ deposit.network }} 网络上发起的，而该充值地址不支持此网络。找回团队将核实能否找回资金，需逐案评估并收取手续费。我们会在 5 个工作日内回复您。",
        },
    },
    {
        "key": "deposit_unsupported_token",
        "title": "Deposit: token not supported",
        "category": "deposits",
        "shortcut": "dtoken",
        "actions": _pending("deposit", "deposit_unsupported_token", hours=72),
        "bodies": {
            "en": "The token sent in transaction {{ deposit.txid }} is not listed on our exchange, so it cannot be credited automatically. Recovery of unlisted tokens is discretionary and subject to an admin fee; tokens that imitate listed ones are never credited. We will let you know what our recovery team decides.",
            "ru": "Токен из транзакции {{ deposit.txid }} не торгуется на нашей бирже, поэтому не может быть зачислен автоматически. Возврат таких токенов рассматривается индивидуально и с комиссией; токены, имитирующие листинговые, не зачисляются. Мы сообщим решение команды по восстановлению.",
            "es": "El token enviado en la transacción {{ deposit.txid }} no está listado en nuestro exchange, por lo que no puede acreditarse automáticamente. La recuperación de tokens no listados es discrecional y conlleva una comisión; los tokens que imitan a otros listados nunca se acreditan. Le comunicaremos la decisión del equipo de recuperación.",
            "tr": "{{ deposit.txid }} işlemiyle gönderilen token borsamızda listelenmediği için otomatik olarak aktarılamaz. Listelenmemiş tokenların kurtarılması takdire bağlıdır ve yönetim ücretine tabidir; listelenen tokenları taklit eden tokenlar hiçbir zaman aktarılmaz. Kurtarma ekibimizin kararını size bildireceğiz.",
            "zh": "交易 {{ deposit.txid }} 中的代币未在本平台上线，因此无法自动入账。未上线代币的找回需酌情处理并收取管理费；仿冒已上线代币的代币一律不予入账。我们会将找回团队的决定告知您。",
        },
    },
    {
        "key": "deposit_below_minimum",
        "title": "Deposit: below the minimum",
        "category": "deposits",
        "shortcut": "dmin",
        "actions": _solved("deposit", "deposit_below_minimum"),
        "bodies": {
            "en": "The deposit {{ deposit.txid }} on {{ deposit.network }} is below the minimum deposit amount for this network, so under our policy it is not credited. The current minimum is shown on the deposit page of the app. Future deposits above the minimum will be credited as usual.",
            "ru": "Сумма депозита {{ deposit.txid }} в сети {{ deposit.network }} меньше минимальной для этой сети, поэтому по нашим правилам он не зачисляется. Актуальный минимум указан на странице пополнения в приложении. Последующие депозиты выше минимума будут зачислены как обычно.",
            "es": "El depósito {{ deposit.txid }} en {{ deposit.network }} es inferior al mínimo de depósito de esta red, por lo que, según nuestra política, no se acredita. El mínimo actual aparece en la página de depósito de la aplicación. Los depósitos futuros por encima del mínimo se acreditarán con normalidad.",
            "tr": "{{ deposit.network }} ağındaki {{ deposit.txid }} yatırımı bu ağ için belirlenen minimum tutarın altında olduğundan politikamız gereği hesaba aktarılmaz. Güncel minimum tutar uygulamadaki yatırma sayfasında yer alır. Minimumun üzerindeki sonraki yatırımlar her zamanki gibi aktarılacaktır.",
            "zh": "您在 {{ deposit.network }} 上的充值 {{ deposit.txid }} 低于该网络的最低充值金额，根据平台规则不予入账。当前最低金额请见 App 充值页面。之后高于最低金额的充值将正常到账。",
        },
    },
    {
        "key": "deposit_not_found",
        "title": "Deposit: transaction not found",
        "category": "deposits",
        "shortcut": "dnf",
        "actions": _pending("deposit", "deposit_not_found", hours=48),
        "bodies": {
            "en": "We could not find the transaction {{ deposit.txid | default(\"you mentioned\") }} on {{ deposit.network | default(\"the network you named\") }}. Please reply with the full TxID (transaction hash), the network you selected when withdrawing, the token and the amount, and we will check again.",
            "ru": "Мы не нашли транзакцию {{ deposit.txid | default(\"из вашего сообщения\") }} в сети {{ deposit.network | default(\"которую вы указали\") }}. Ответьте, пожалуйста, с полным TxID (хешем транзакции), сетью, выбранной при выводе, токеном и суммой, и мы проверим ещё раз.",
            "es": "No encontramos la transacción {{ deposit.txid | default(\"que menciona\") }} en {{ deposit.network | default(\"la red indicada\") }}. Responda con el TxID completo (hash de la transacción), la red que eligió al retirar, el token y el importe, y volveremos a comprobarlo.",
            "tr": "{{ deposit.txid | default(\"Belirttiğiniz\") }} işlemini {{ deposit.network | default(\"belirtilen\") }} ağında bulamadık. Lütfen tam TxID (işlem hash'i), çekim sırasında seçtiğiniz ağ, token ve tutar ile yanıt verin; tekrar kontrol edelim.",
            "zh": "我们在 {{ deposit.network | default(\"您所说的网络\") }} 上未找到交易 {{ deposit.txid | default(\"\") }}。请回复完整的 TxID（交易哈希）、提币时选择的网络、币种和金额，我们将再次核查。",
        },
    },
    {
        "key": "deposit_needs_manual_credit",
        "title": "Deposit: valid, crediting manually",
        "category": "deposits",
        "shortcut": "dmanual",
        "actions": [
            {"type": "set_status", "value": "on_hold"},
            {"type": "add_tags", "value": ["deposit", "deposit_manual_credit"]},
            {"type": "set_priority", "value": "high"},
        ],
        "bodies": {
            "en": "Your deposit {{ deposit.txid }} on {{ deposit.network }} is valid and confirmed, but it was not credited automatically. I have asked our finance team to credit it manually; this usually takes up to 24 hours. I will let you know once it is done.",
            "ru": "Ваш депозит {{ deposit.txid }} в сети {{ deposit.network }} действителен и подтверждён, но не был зачислен автоматически. Я передал(а) запрос финансовой команде на ручное зачисление; обычно это занимает до 24 часов. Я сообщу, когда всё будет готово.",
            "es": "Su depósito {{ deposit.txid }} en {{ deposit.network }} es válido y está confirmado, pero no se acreditó automáticamente. He pedido a nuestro equipo financiero que lo acredite manualmente; suele tardar hasta 24 horas. Le avisaré cuando esté hecho.",
            "tr": "{{ deposit.network }} ağındaki {{ deposit.txid }} yatırımınız geçerli ve onaylanmış, ancak otomatik olarak aktarılmadı. Finans ekibimizden manuel olarak aktarmasını istedim; bu genellikle 24 saate kadar sürer. Tamamlandığında size haber vereceğim.",
            "zh": "您在 {{ deposit.network }} 上的充值 {{ deposit.txid }} 有效且已确认，但未能自动入账。我已请财务团队手动入账，通常需要 24 小时以内。完成后我会通知您。",
        },
    },
    {
        "key": "kyc_documents_request",
        "title": "KYC: documents needed",
        "category": "account",
        "shortcut": "kyc",
        "actions": _pending("kyc", "kyc_documents", hours=72),
        "bodies": {
            "en": "To complete the verification of your account, please upload through the Verification page of the app: a photo of a valid ID document (both sides) and a selfie holding it. Do not send documents by e-mail or chat; the upload page is the secure way.",
            "ru": "Чтобы завершить верификацию аккаунта, загрузите, пожалуйста, на странице «Верификация» в приложении фото действующего документа (с обеих сторон) и селфи с ним. Не присылайте документы по почте или в чат: страница загрузки — безопасный способ.",
            "es": "Para completar la verificación de su cuenta, suba desde la página de Verificación de la aplicación una foto de un documento de identidad válido (ambas caras) y un selfi sosteniéndolo. No envíe documentos por correo ni por chat; la página de carga es el medio seguro.",
            "tr": "Hesap doğrulamanızı tamamlamak için lütfen uygulamadaki Doğrulama sayfasından geçerli bir kimlik belgesinin (iki yüzü) fotoğrafını ve belgeyi tutarken çekilmiş bir selfie yükleyin. Belgeleri e-posta veya sohbet yoluyla iletmeyin; güvenli yol yükleme sayfasıdır.",
            "zh": "为完成账户认证，请在 App 的“身份认证”页面上传有效身份证件（正反两面）照片及手持证件自拍。请勿通过邮件或聊天发送证件，上传页面才是安全的方式。",
        },
    },
    {
        "key": "account_locked_security",
        "title": "Account locked for security",
        "category": "account",
        "shortcut": "locked",
        "actions": [
            {"type": "set_status", "value": "pending"},
            {"type": "add_tags", "value": ["security", "account_locked"]},
            {"type": "set_priority", "value": "high"},
        ],
        "bodies": {
            "en": "For your protection, your account has been temporarily locked after unusual activity. To unlock it, please use \"Unlock account\" in the app, which will guide you through identity verification. We will never ask for your password, 2FA codes, seed phrase or private keys: never share them with anyone, including people who claim to be our staff.",
            "ru": "В целях защиты ваш аккаунт временно заблокирован из-за подозрительной активности. Чтобы разблокировать его, воспользуйтесь функцией «Разблокировать аккаунт» в приложении — она проведёт вас через проверку личности. Мы никогда не запрашиваем пароль, коды 2FA, сид-фразу или приватные ключи: никогда никому их не сообщайте, даже тем, кто представляется нашими сотрудниками.",
            "es": "Por su seguridad, su cuenta se ha bloqueado temporalmente tras detectar actividad inusual. Para desbloquearla, use «Desbloquear cuenta» en la aplicación, que le guiará por la verificación de identidad. Nunca le pediremos su contraseña, códigos 2FA, frase semilla ni claves privadas: nunca los comparta con nadie, ni siquiera con quien diga ser de nuestro equipo.",
            "tr": "Güvenliğiniz için hesabınız olağan dışı bir etkinlik nedeniyle geçici olarak kilitlendi. Kilidi açmak için uygulamadaki \"Hesap kilidini aç\" seçeneğini kullanın; kimlik doğrulama adımlarında size yol gösterecektir. Sizden asla şifrenizi, 2FA kodlarınızı, kurtarma ifadenizi veya özel anahtarlarınızı istemeyiz; bunları çalışanımız olduğunu söyleyenler dahil asla kimseyle paylaşmayın.",
            "zh": "为保护您的资产，因检测到异常活动，您的账户已被临时锁定。请在 App 中使用“解锁账户”，按提示完成身份验证即可解锁。我们绝不会索要您的密码、2FA 验证码、助记词或私钥，请勿向任何人透露，包括自称是我们员工的人。",
        },
    },
    {
        "key": "withdrawal_delay",
        "title": "Withdrawal delayed / under review",
        "category": "withdrawals",
        "shortcut": "wd",
        "actions": _pending("withdrawal", "withdrawal_delay", hours=12),
        "bodies": {
            "en": "Your withdrawal is taking longer than usual because it is in a routine security review. Reviews are normally completed within 24 hours, after which the withdrawal is processed automatically. You do not need to submit it again.",
            "ru": "Ваш вывод обрабатывается дольше обычного, так как проходит плановую проверку безопасности. Обычно проверка занимает до 24 часов, после чего вывод выполняется автоматически. Повторно создавать заявку не нужно.",
            "es": "Su retiro está tardando más de lo habitual porque está en una revisión de seguridad rutinaria. Las revisiones suelen completarse en 24 horas y después el retiro se procesa automáticamente. No es necesario volver a solicitarlo.",
            "tr": "Çekiminiz rutin bir güvenlik incelemesinde olduğu için her zamankinden uzun sürüyor. İncelemeler genellikle 24 saat içinde tamamlanır ve ardından çekim otomatik olarak işlenir. Talebi yeniden oluşturmanıza gerek yok.",
            "zh": "您的提币正在进行例行安全审核，因此比平时耗时更长。审核通常在 24 小时内完成，之后提币将自动处理，无需重新提交。",
        },
    },
    {
        "key": "close_solved",
        "title": "Close as solved",
        "category": "general",
        "shortcut": "bye",
        "actions": [{"type": "set_status", "value": "solved"}],
        "bodies": {
            "en": "I am glad we could resolve this. I will mark the ticket as solved; if you need anything else, just reply and it will reopen.",
            "ru": "Рад(а), что вопрос решён. Я отмечу обращение как решённое; если понадобится что-то ещё, просто ответьте, и оно откроется снова.",
            "es": "Me alegra que hayamos podido resolverlo. Marcaré el ticket como resuelto; si necesita algo más, responda y se volverá a abrir.",
            "tr": "Sorunu çözebildiğimize sevindim. Talebi çözüldü olarak işaretleyeceğim; başka bir şeye ihtiyacınız olursa yanıt vermeniz yeterli, talep yeniden açılır.",
            "zh": "很高兴问题已解决。我会将工单标记为已解决；如还有其他需要，直接回复即可重新打开。",
        },
    },
    {
        "key": "deposit_check_ledger",
        "title": "Deposit: confirmed on-chain, checking our records",
        "category": "deposits",
        "shortcut": "dcheck",
        "actions": [
            {"type": "set_status", "value": "on_hold"},
            {"type": "add_tags", "value": ["deposit", "deposit_check_ledger"]},
        ],
        "bodies": {
            "en": "Your deposit {{ deposit.txid }} on {{ deposit.network }} is confirmed on the blockchain. I am now checking it against our records and will update you as soon as that is done.",
            "ru": "Ваш депозит {{ deposit.txid }} в сети {{ deposit.network }} подтверждён в блокчейне. Сейчас я сверяю его с нашими записями и сообщу вам, как только проверка будет завершена.",
            "es": "Su depósito {{ deposit.txid }} en {{ deposit.network }} está confirmado en la cadena de bloques. Ahora lo estoy verificando con nuestros registros y le informaré en cuanto termine.",
            "tr": "{{ deposit.network }} ağındaki {{ deposit.txid }} yatırımınız blok zincirinde onaylandı. Şimdi kayıtlarımızla karşılaştırıyorum ve tamamlanır tamamlanmaz size bilgi vereceğim.",
            "zh": "您在 {{ deposit.network }} 上的充值 {{ deposit.txid }} 已在区块链上确认。我正在与我们的记录进行核对，完成后会立即通知您。",
        },
    },
    {
        "key": "deposit_dropped",
        "title": "Deposit: transaction dropped or replaced, will not arrive",
        "category": "deposits",
        "shortcut": "ddropped",
        "actions": _solved("deposit", "deposit_dropped"),
        "bodies": {
            "en": "The transaction {{ deposit.txid }} on {{ deposit.network }} will not arrive: it is no longer in the blockchain or waiting to be confirmed, because the network replaced it with another transaction from the same wallet. No funds reached us and they remain with the sender. Please check the sending wallet or platform, then send the deposit again.",
            "ru": "Транзакция {{ deposit.txid }} в сети {{ deposit.network }} не поступит: её больше нет в блокчейне и она не ожидает подтверждения, так как сеть заменила её другой транзакцией с того же кошелька. Средства к нам не поступили и остались у отправителя. Проверьте кошелёк или платформу отправителя и отправьте депозит повторно.",
            "es": "La transacción {{ deposit.txid }} en {{ deposit.network }} no llegará: ya no está en la cadena de bloques ni pendiente de confirmación, porque la red la sustituyó por otra transacción de la misma billetera. No recibimos fondos y siguen en poder del remitente. Revise la billetera o plataforma de origen y vuelva a enviar el depósito.",
            "tr": "{{ deposit.network }} ağındaki {{ deposit.txid }} işlemi ulaşmayacak: ağ onu aynı cüzdandan gelen başka bir işlemle değiştirdiği için artık blok zincirinde değil ve onay beklemiyor. Bize herhangi bir fon ulaşmadı, fonlar gönderende kaldı. Lütfen gönderen cüzdanı veya platformu kontrol edip yatırımı yeniden yapın.",
            "zh": "{{ deposit.network }} 上的交易 {{ deposit.txid }} 不会到账：网络已用同一钱包的另一笔交易替换了它，它既不在区块链上，也不再等待确认。资金未转入我们的地址，仍在发送方。请检查发送方钱包或平台后重新充值。",
        },
    },
]


def default_macros() -> list[Macro]:
    """Fresh, validated copies of the seed macros (ids `seed:<key>`, shared)."""
    return [
        Macro(
            id=f"seed:{spec['key']}",
            key=spec["key"],
            title=spec["title"],
            category=spec["category"],
            bodies=_wrap(spec["bodies"]),
            actions=[dict(a) for a in spec["actions"]],
            shortcut=spec["shortcut"],
            visibility="shared",
        ).validate()
        for spec in _SPECS
    ]
