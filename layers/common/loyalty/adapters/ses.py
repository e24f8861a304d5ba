"""The mail port on Amazon SES: SendRawEmail of a MIME message (text and HTML alternatives, the
language in Content-Language, the kind in X-Loyalty-Kind, List-Unsubscribe headers). A refused
message (MessageRejected, a suppressed or invalid address) is `MailRejected`; a message refused
because of the sender (an unverified identity) is an error of ours and raised as it is."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from botocore.exceptions import ClientError

from loyalty.adapters.s3sqs import client
from loyalty.notify.model import Email, MailRejected

REJECTED = frozenset({"MessageRejected", "InvalidParameterValue", "AccountSendingPausedException"})


def mime(email: Email, sender: str, sender_name: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    msg["X-Loyalty-Kind"] = email.kind
    msg["X-Loyalty-Partner"] = email.partner_id
    msg["X-Loyalty-Event"] = email.event_id
    if email.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
    for k, v in email.headers.items():
        msg[k] = v
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    msg["Content-Language"] = email.lang  # after the content: set_content clears Content-* headers
    return msg.as_bytes()


class SesMailer:
    def __init__(
        self,
        sender: str,
        region: str,
        endpoint_url: str | None = None,
        sender_name: str = "",
        configuration_set: str = "",
    ) -> None:
        self.sender, self.sender_name, self.configuration_set = sender, sender_name, configuration_set
        self.ses = client("ses", region, endpoint_url)

    def send(self, email: Email) -> str:
        args: dict[str, object] = {
            "Source": self.sender,
            "Destinations": [email.to],
            "RawMessage": {"Data": mime(email, self.sender, self.sender_name)},
        }
        if self.configuration_set:
            args["ConfigurationSetName"] = self.configuration_set
        try:
            resp = self.ses.send_raw_email(**args)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            text = str(err.get("Message") or "")
            # refused for the sender (an unverified identity): our fault, not the partner's address
            if err.get("Code") in REJECTED and self.sender not in text:
                raise MailRejected(email.to, str(err.get("Message") or err.get("Code"))) from exc
            raise
        return str(resp["MessageId"])
