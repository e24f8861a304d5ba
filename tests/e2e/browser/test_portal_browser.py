"""The browser tests, collected in one module so that one pytest-xdist worker runs them all on
one served demo stack (`--dist loadfile` sends each test file to a worker, and each worker
builds the session's `portal` world once: three files cost up to three worlds of about 70 s).
The checks live in sign_in_pages.py, partner_pages.py and finance_pages.py; finance approves
last, after the partner pages have read the close awaiting its decision."""

from __future__ import annotations

from tests.e2e.browser import finance_pages, partner_pages, sign_in_pages

# pytest collects a module's tests in the order they enter its namespace: this one
test_wrong_password_is_refused_on_the_page = sign_in_pages.test_wrong_password_is_refused_on_the_page
test_each_role_lands_on_its_page = sign_in_pages.test_each_role_lands_on_its_page
test_the_language_switch_reloads_in_russian_and_is_kept = (
    sign_in_pages.test_the_language_switch_reloads_in_russian_and_is_kept
)
test_partner_dashboard_statement_redeem_upload_and_refusal = (
    partner_pages.test_partner_dashboard_statement_redeem_upload_and_refusal
)
test_partner_dashboard_in_russian_at_phone_width = (
    partner_pages.test_partner_dashboard_in_russian_at_phone_width
)
test_the_console_reads_in_russian_at_phone_width = (
    finance_pages.test_the_console_reads_in_russian_at_phone_width
)
test_the_console_links_a_closed_month_s_program_analytics = (
    finance_pages.test_the_console_links_a_closed_month_s_program_analytics
)
test_finance_excludes_a_partner_and_approves = finance_pages.test_finance_excludes_a_partner_and_approves
