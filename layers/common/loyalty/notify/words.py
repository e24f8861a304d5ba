"""The words of the emails, in Russian and English. `{name}`-style fields are filled with figures
already formatted for the language (Babel)."""

from __future__ import annotations

from collections.abc import Mapping

from loyalty.kernel.i18n import Lang

WORDS: Mapping[Lang, Mapping[str, str]] = {
    "en": {
        "hello": "Hello {name},",
        "statement_ready.subject": "Your statement for {period} is ready",
        "statement_ready.body": "Your commission statement for {period} is ready.",
        "statement_ready.action": "Open the statement",
        "payout_sent.subject": "Payout for {period} sent: {amount}",
        "payout_sent.body": "We sent {amount} for {period} to your bank account.",
        "tier_changed.subject": "Your tier is now {to}",
        "tier_changed.body": "From {month} your tier is {to} (until now {from_}).",
        "upload_processed.subject": "Your file {file} was processed: {accepted} accepted, {rejected} rejected",
        "upload_processed.body": "{rows} rows read, {accepted} accepted, {rejected} rejected, {held} held for review.",
        "upload_processed.file_error": "The file could not be read: {error}",
        "upload_processed.errors": "The first errors:",
        "upload_processed.action": "See the full report",
        "target_reached.subject": "Target {target} reached",
        "target_reached.body": "You reached target {target} for {interval}: {actual} of {goal} ({pct}).",
        "points_expiring.subject": "{points} points expire soon",
        "points_expiring.body": "{points} of your points expire soon, the first on {date}. Spend them in the catalog.",
        "portal": "Open your partner portal",
        "footer": "You receive this email because you are a partner of the program.",
        "unsubscribe": "Stop emails like this one",
    },
    "ru": {
        "hello": "Здравствуйте, {name}!",
        "statement_ready.subject": "Ваш отчёт за {period} готов",
        "statement_ready.body": "Отчёт о комиссии за {period} готов.",
        "statement_ready.action": "Открыть отчёт",
        "payout_sent.subject": "Выплата за {period} отправлена: {amount}",
        "payout_sent.body": "Мы перевели {amount} за {period} на ваш банковский счёт.",
        "tier_changed.subject": "Ваш новый уровень: {to}",
        "tier_changed.body": "С периода «{month}» ваш уровень — {to} (до этого {from_}).",
        "upload_processed.subject": "Файл {file} обработан: принято {accepted}, отклонено {rejected}",
        "upload_processed.body": "Прочитано строк: {rows}, принято: {accepted}, отклонено: {rejected}, на проверке: {held}.",
        "upload_processed.file_error": "Файл не удалось прочитать: {error}",
        "upload_processed.errors": "Первые ошибки:",
        "upload_processed.action": "Открыть полный отчёт",
        "target_reached.subject": "Цель {target} достигнута",
        "target_reached.body": "Вы достигли цели {target} за {interval}: {actual} из {goal} ({pct}).",
        "points_expiring.subject": "Скоро сгорят баллы: {points}",
        "points_expiring.body": "Скоро сгорят {points} ваших баллов, первые — {date}. Потратьте их в каталоге.",
        "portal": "Открыть личный кабинет партнёра",
        "footer": "Вы получили это письмо как партнёр программы.",
        "unsubscribe": "Не получать такие письма",
    },
}
