"""The words of a partner statement in each language (Russian and English). The English labels
keep the ones the statements always had (the CSV still uses them); section titles and column
heads that come from other contexts in English are translated here when known and shown as they
are otherwise (a partner's own ids, SKUs and names are never translated)."""

from __future__ import annotations

from collections.abc import Mapping

from loyalty.kernel.i18n import Lang

WORDS: Mapping[Lang, Mapping[str, str]] = {
    "en": {
        "title": "Commission statement",
        "rule_version": "Rule version",
        "partner": "partner",
        "period": "period",
        "summary": "Summary",
        "net_sales": "net sales",
        "trailing": "trailing net sales",
        "new_customers": "new customers",
        "returns_rate": "returns rate",
        "tier_now": "tier this month",
        "tier_next": "tier from next month",
        "progress": "progress",
        "carried_in": "carried in",
        "matured_now": "matured this close",
        "payout": "payout",
        "carried_out": "carried forward",
        "payout_note": "payout note",
        "rule_version_row": "rule version",
        "bonus": "bonuses accrued",
        "override": "overrides accrued",
        "commission_matured": "commission matured this close",
        "bonus_matured": "bonuses matured this close",
        "override_matured": "overrides matured this close",
        "program_held": "bonuses and overrides held",
        "tier_progress": "Tier progress",
        "top_tier": "top tier",
        "to_go": "to go to",
        "lines": "Lines",
        "total": "Total",
        "trace": "calculation",
        "sale": "sale",
        "sold_at": "sold",
        "sku": "SKU",
        "category": "category",
        "quantity": "quantity",
        "amount": "amount",
        "amount_eur": "amount EUR",
        "tier": "tier",
        "rate": "rate",
        "commission": "commission",
        "basis_month": "rate of the month of sale",
        "basis_original": "rate of the returned sale",
        "days_left": "days left",
        "left": "to go",
        "of": "of",
        "attained": "attained",
        "change_up": "up",
        "change_down": "down",
        "change_hold": "hold",
        "change_grace": "grace",
        "explain": (
            "Commission per line = amount in EUR x rate of the tier in effect for the month of sale "
            "(returns at the rate of the sale they return), rounded once, half-even, to cents. It "
            "becomes payable once its holding period has passed at a month's cut-off; payable "
            "balances below the minimum carry forward."
        ),
    },
    "ru": {
        "title": "Отчёт о комиссии",
        "rule_version": "Версия правил",
        "partner": "партнёр",
        "period": "период",
        "summary": "Итоги",
        "net_sales": "чистые продажи",
        "trailing": "продажи за скользящий период",
        "new_customers": "новые клиенты",
        "returns_rate": "доля возвратов",
        "tier_now": "уровень в этом месяце",
        "tier_next": "уровень со следующего месяца",
        "progress": "прогресс",
        "carried_in": "перенесено с прошлого периода",
        "matured_now": "стало к выплате в этом закрытии",
        "payout": "выплата",
        "carried_out": "переносится на следующий период",
        "payout_note": "примечание к выплате",
        "rule_version_row": "версия правил",
        "bonus": "начислено бонусов",
        "override": "начислено овверайдов",
        "commission_matured": "комиссия к выплате в этом закрытии",
        "bonus_matured": "бонусы к выплате в этом закрытии",
        "override_matured": "овверайды к выплате в этом закрытии",
        "program_held": "бонусы и овверайды на удержании",
        "tier_progress": "Прогресс уровня",
        "top_tier": "высший уровень",
        "to_go": "осталось до уровня",
        "lines": "Строки",
        "total": "Итого",
        "trace": "расчёт",
        "sale": "продажа",
        "sold_at": "дата",
        "sku": "артикул",
        "category": "категория",
        "quantity": "кол-во",
        "amount": "сумма",
        "amount_eur": "сумма в EUR",
        "tier": "уровень",
        "rate": "ставка",
        "commission": "комиссия",
        "basis_month": "ставка месяца продажи",
        "basis_original": "ставка возвращённой продажи",
        "days_left": "дней осталось",
        "left": "осталось",
        "of": "из",
        "attained": "выполнено",
        "change_up": "повышение",
        "change_down": "понижение",
        "change_hold": "без изменений",
        "change_grace": "льготный период",
        "explain": (
            "Комиссия по строке = сумма в EUR \N{MULTIPLICATION SIGN} ставка уровня, действующего в месяце продажи "
            "(возвраты — по ставке возвращённой продажи), округлённая один раз до центов по "
            "банковскому правилу. Она становится доступной к выплате после периода удержания на "
            "дату закрытия месяца; суммы ниже минимальной выплаты переносятся."
        ),
    },
}

# titles and column heads of the sections other contexts build (in English)
SECTION_WORDS: Mapping[str, str] = {
    "Bonuses and overrides": "Бонусы и овверайды",
    "Targets": "Цели",
    "Points": "Баллы",
    "Certificates": "Сертификаты",
    "line_id": "строка",
    "kind": "вид",
    "earned_on": "начислено",
    "amount_eur": "сумма в EUR",
    "rule_version": "версия правил",
    "description": "описание",
    "trace": "расчёт",
    "target_id": "цель",
    "interval": "интервал",
    "metric": "показатель",
    "goal": "план",
    "actual": "факт",
    "attainment_pct": "выполнение, %",
    "item": "статья",
    "points": "баллы",
    "place": "место",
    "rank": "позиция",
    "name": "название",
    "value": "значение",
    "course / award": "курс / награда",
    "person / segment": "сотрудник / сегмент",
    "certificate": "сертификат",
    "valid until": "действителен до",
    "earned this month (total)": "начислено за месяц (всего)",
    "spent this month": "потрачено за месяц",
    "expired this month": "сгорело за месяц",
    "balance: active (spendable)": "баланс: доступно",
    "balance: pending (holding period)": "баланс: на удержании",
    "expiring soon": "скоро сгорят",
    "lifetime earned": "начислено за всё время",
    "you": "вы",
    "just above": "на позицию выше",
    "just below": "на позицию ниже",
    "top": "лидеры",
    "partner of the month": "партнёр месяца",
    "no expiry": "бессрочно",
    "bonus": "бонус",
    "override": "овверайд",
}


def section_word(text: str, lang: Lang) -> str:
    """`text` in `lang` when it is a known label of another context's section, else as it is."""
    if lang == "en":
        return text
    if text in SECTION_WORDS:
        return SECTION_WORDS[text]
    if text.startswith("Rank in segment "):
        return "Место в сегменте " + text.removeprefix("Rank in segment ")
    if text.startswith("earned this month (") and text.endswith(")"):
        return "начислено за месяц (" + text.removeprefix("earned this month (")
    return text
