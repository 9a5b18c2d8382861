"""The pages' texts in English and German (templates call ``t("key")``).

A page's template names a key; the text comes from the request's language and falls back to
English (a key missing everywhere shows as itself, and tests/web/test_pages.py fails on it).
Add a page's texts as one more block of keys in both languages.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "de")
"""Supported languages, the first is the default."""

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "skip_to_content": "Skip to content",
        "site_name": "shoploop",
        "language": "Language",
        "main_navigation": "Main navigation",
        "footer_note": "shoploop — recommendations, referrals and customer sync",
        # dashboard: login and access
        "dashboard": "Dashboard",
        "login_title": "Sign in to the dashboard",
        "user_name": "User name",
        "password": "Password",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "signed_in_as": "Signed in as {user}",
        "login_failed": "User name or password is wrong.",
        "login_limited": "Too many failed sign-ins. Try again in {seconds} seconds.",
        "csrf_failed_title": "Form expired",
        "csrf_failed_body": "This form was not sent from a current dashboard page (its "
                            "security token is missing or old). Open the page again and "
                            "repeat the action.",
        "disabled_title": "The dashboard is not enabled",
        "disabled_no_users": "No dashboard users are configured, and there is no default "
                             "password. Create a password hash with “shoploop web "
                             "hash-password” and add it under [web] users in shoploop.toml.",
        "disabled_no_secret": "The session key is missing: set the environment variable "
                              "{variable} to a random value of at least {chars} characters "
                              "before starting “shoploop serve”.",
        # dashboard: navigation and panels
        "overview": "Overview",
        "sync_runs": "Sync runs",
        "recommendations": "Recommendations",
        "connections": "Connections",
        "coming_later": "Coming with a later release",
        "referral_funnel": "Referral funnel",
        "referral_funnel_slot": "Surveys sent, answered, recommended and rewarded appear "
                                "here once the referral loop runs.",
        "experiments": "Experiments",
        "experiments_slot": "A/B results of placements appear here once experiments run.",
        # sync runs
        "run": "Run",
        "job": "Job",
        "started": "Started",
        "finished": "Finished",
        "duration": "Duration",
        "status": "Status",
        "dry_run": "Dry run",
        "written": "Written",
        "cleared": "Cleared",
        "failed": "Failed",
        "no_runs": "No runs recorded yet. Run “shoploop sync customers”.",
        "run_history_chart": "Changes written and failed per run, oldest on the left",
        "run_title": "Run {run}",
        "run_not_found": "There is no run with the id {run}.",
        "changes": "Changes",
        "changes_by_status": "Changes by status",
        "changes_by_attribute": "Changes by attribute and target",
        "batches": "Batches",
        "target": "Target",
        "customer": "Customer",
        "attribute": "Attribute",
        "old_value": "Old value",
        "new_value": "New value",
        "note": "Note",
        "size": "Size",
        "filter_status": "Show changes with status",
        "filter_job": "Show runs of the job",
        "all_jobs": "all jobs",
        "all_statuses": "all",
        "show": "Show",
        "shown_of": "{shown} of {total} changes shown.",
        "no_changes": "This run recorded no changes.",
        "summary": "Summary",
        "yes": "yes",
        "no": "no",
        # recommendations
        "models": "Models",
        "model_version": "Version {version}",
        "built_at": "Built",
        "no_models": "No recommendation model built yet. Run “shoploop reco build”.",
        "model_figures_chart": "What the newest model learned",
        "placements": "Placements",
        "placement": "Placement",
        "rules": "Rules",
        "storefront_events": "Storefront events",
        "storefront_events_slot": "Impressions, clicks and add-to-cart per placement appear "
                                  "here once the storefront widget reports events "
                                  "(POST /api/v1/events).",
        "strategies": "Strategies",
        "figure_orders": "orders",
        "figure_pairs": "product pairs bought together",
        "figure_products_with_partners": "products with partners",
        "figure_repeat_purchases": "repeat purchases",
        "figure_repurchased_products": "re-purchased products",
        "figure_products_with_upsells": "products with upsells",
        "figure_segments_with_products": "segments with products",
        "figure_installed_equipment": "installed equipment",
        # connections
        "connection": "Connection",
        "type": "Type",
        "reachable": "Reachable",
        "authorised": "Credentials accepted",
        "detail": "Detail",
        "healthy": "healthy",
        "unhealthy": "needs attention",
        "no_connections": "No connections are configured.",
        "checked_at": "Checked {time} (each page view checks again).",
        # referral: the survey, the opt-out and the landing page (customer pages)
        "survey_title": "How was your order?",
        "survey_question": "How satisfied are you with your order, from 1 to 5?",
        "survey_score_1": "very unhappy",
        "survey_score_2": "unhappy",
        "survey_score_3": "okay",
        "survey_score_4": "happy",
        "survey_score_5": "very happy",
        "survey_comment": "Anything you would like to tell us? (optional)",
        "survey_send": "Send my answer",
        "survey_choose": "Please choose a number from 1 to 5.",
        "survey_thanks_title": "Thank you!",
        "survey_thanks_body": "Thank you for your answer — it helps us get better.",
        "survey_thanks_invite": "Glad you are happy! We will send you an e-mail shortly with "
                                "your personal code: your friends get {offer} off their "
                                "first order, and you get a thank-you for each of them.",
        "survey_answered_title": "Already answered",
        "survey_answered_body": "This survey has been answered already. Thank you!",
        "survey_closed_title": "Survey closed",
        "survey_closed_body": "This survey is closed. Thank you for your time.",
        "survey_expired_title": "This link has expired",
        "survey_expired_body": "The survey link has expired, so the survey is closed. Thank "
                               "you for your time.",
        "survey_invalid_title": "This link is not valid",
        "survey_invalid_body": "This survey link is not valid. Please open the link from the "
                               "e-mail exactly as it was sent.",
        "survey_unavailable_title": "Survey unavailable",
        "survey_unavailable_body": "The survey cannot be taken right now. Please try again "
                                   "later.",
        "opt_out_link": "I do not want surveys or invitations any more",
        "opt_out_title": "No more surveys",
        "opt_out_question": "Send no more surveys or invitations to my e-mail address.",
        "opt_out_confirm": "Confirm",
        "opt_out_done_title": "You will get no more surveys",
        "opt_out_done_body": "Done: we will send no more surveys or invitations to your "
                             "e-mail address.",
        "landing_title": "A gift from a friend",
        "landing_offer": "{offer} off your first order",
        "landing_code_intro": "A friend recommends us. Your personal code:",
        "landing_valid": "Valid for a first order, {days} days from the day it was "
                         "issued.",
        "landing_shop_applied": "Shop now — the code is applied",
        "landing_shop": "Go to the shop",
        "landing_enter_code": "Enter the code at checkout.",
        "landing_unknown_title": "Code not found",
        "landing_unknown_body": "This referral code is unknown or no longer valid.",
    },
    "de": {
        "skip_to_content": "Zum Inhalt springen",
        "site_name": "shoploop",
        "language": "Sprache",
        "main_navigation": "Hauptnavigation",
        "footer_note": "shoploop — Empfehlungen, Weiterempfehlungen und Kundendaten-Abgleich",
        "dashboard": "Dashboard",
        "login_title": "Am Dashboard anmelden",
        "user_name": "Benutzername",
        "password": "Passwort",
        "sign_in": "Anmelden",
        "sign_out": "Abmelden",
        "signed_in_as": "Angemeldet als {user}",
        "login_failed": "Benutzername oder Passwort ist falsch.",
        "login_limited": "Zu viele fehlgeschlagene Anmeldungen. Bitte in {seconds} Sekunden "
                         "erneut versuchen.",
        "csrf_failed_title": "Formular abgelaufen",
        "csrf_failed_body": "Dieses Formular kam nicht von einer aktuellen Dashboard-Seite "
                            "(sein Sicherheits-Token fehlt oder ist alt). Bitte die Seite neu "
                            "öffnen und den Schritt wiederholen.",
        "disabled_title": "Das Dashboard ist nicht eingerichtet",
        "disabled_no_users": "Es sind keine Dashboard-Benutzer eingerichtet, und es gibt kein "
                             "Standardpasswort. Einen Passwort-Hash mit „shoploop web "
                             "hash-password“ erzeugen und unter [web] users in shoploop.toml "
                             "eintragen.",
        "disabled_no_secret": "Der Sitzungsschlüssel fehlt: die Umgebungsvariable {variable} "
                              "vor dem Start von „shoploop serve“ auf einen Zufallswert mit "
                              "mindestens {chars} Zeichen setzen.",
        "overview": "Übersicht",
        "sync_runs": "Abgleichläufe",
        "recommendations": "Empfehlungen",
        "connections": "Verbindungen",
        "coming_later": "Kommt mit einer späteren Version",
        "referral_funnel": "Weiterempfehlungs-Trichter",
        "referral_funnel_slot": "Versandte und beantwortete Umfragen, Empfehlungen und "
                                "Prämien erscheinen hier, sobald das Empfehlungsprogramm läuft.",
        "experiments": "Experimente",
        "experiments_slot": "A/B-Ergebnisse der Platzierungen erscheinen hier, sobald "
                            "Experimente laufen.",
        "run": "Lauf",
        "job": "Auftrag",
        "started": "Begonnen",
        "finished": "Beendet",
        "duration": "Dauer",
        "status": "Status",
        "dry_run": "Probelauf",
        "written": "Geschrieben",
        "cleared": "Geleert",
        "failed": "Fehlgeschlagen",
        "no_runs": "Noch keine Läufe aufgezeichnet. „shoploop sync customers“ ausführen.",
        "run_history_chart": "Geschriebene und fehlgeschlagene Änderungen je Lauf, der "
                             "älteste links",
        "run_title": "Lauf {run}",
        "run_not_found": "Es gibt keinen Lauf mit der Kennung {run}.",
        "changes": "Änderungen",
        "changes_by_status": "Änderungen nach Status",
        "changes_by_attribute": "Änderungen nach Attribut und Ziel",
        "batches": "Stapel",
        "target": "Ziel",
        "customer": "Kunde",
        "attribute": "Attribut",
        "old_value": "Alter Wert",
        "new_value": "Neuer Wert",
        "note": "Hinweis",
        "size": "Größe",
        "filter_status": "Änderungen mit Status zeigen",
        "filter_job": "Läufe des Auftrags zeigen",
        "all_jobs": "alle Aufträge",
        "all_statuses": "alle",
        "show": "Zeigen",
        "shown_of": "{shown} von {total} Änderungen gezeigt.",
        "no_changes": "Dieser Lauf hat keine Änderungen aufgezeichnet.",
        "summary": "Zusammenfassung",
        "yes": "ja",
        "no": "nein",
        "models": "Modelle",
        "model_version": "Version {version}",
        "built_at": "Erstellt",
        "no_models": "Noch kein Empfehlungsmodell erstellt. „shoploop reco build“ ausführen.",
        "model_figures_chart": "Was das neueste Modell gelernt hat",
        "placements": "Platzierungen",
        "placement": "Platzierung",
        "rules": "Regeln",
        "storefront_events": "Shop-Ereignisse",
        "storefront_events_slot": "Einblendungen, Klicks und Warenkorb-Zugänge je "
                                  "Platzierung erscheinen hier, sobald das Shop-Widget "
                                  "Ereignisse meldet (POST /api/v1/events).",
        "strategies": "Strategien",
        "figure_orders": "Bestellungen",
        "figure_pairs": "gemeinsam gekaufte Paare",
        "figure_products_with_partners": "Produkte mit Partnern",
        "figure_repeat_purchases": "Wiederholungskäufe",
        "figure_repurchased_products": "wieder gekaufte Produkte",
        "figure_products_with_upsells": "Produkte mit Upsells",
        "figure_segments_with_products": "Segmente mit Produkten",
        "figure_installed_equipment": "installierte Geräte",
        "connection": "Verbindung",
        "type": "Typ",
        "reachable": "Erreichbar",
        "authorised": "Zugangsdaten akzeptiert",
        "detail": "Detail",
        "healthy": "in Ordnung",
        "unhealthy": "braucht Aufmerksamkeit",
        "no_connections": "Es sind keine Verbindungen eingerichtet.",
        "checked_at": "Geprüft {time} (jeder Seitenaufruf prüft erneut).",
        # referral: the survey, the opt-out and the landing page (customer pages)
        "survey_title": "Wie war Ihre Bestellung?",
        "survey_question": "Wie zufrieden sind Sie mit Ihrer Bestellung, von 1 bis 5?",
        "survey_score_1": "sehr unzufrieden",
        "survey_score_2": "unzufrieden",
        "survey_score_3": "in Ordnung",
        "survey_score_4": "zufrieden",
        "survey_score_5": "sehr zufrieden",
        "survey_comment": "Möchten Sie uns noch etwas sagen? (freiwillig)",
        "survey_send": "Antwort senden",
        "survey_choose": "Bitte wählen Sie eine Zahl von 1 bis 5.",
        "survey_thanks_title": "Vielen Dank!",
        "survey_thanks_body": "Vielen Dank für Ihre Antwort, sie hilft uns, besser zu werden.",
        "survey_thanks_invite": "Schön, dass Sie zufrieden sind! Sie erhalten in Kürze eine "
                                "E-Mail mit Ihrem persönlichen Code: Ihre Freunde erhalten "
                                "{offer} Rabatt auf die erste Bestellung, und Sie für jeden "
                                "ein Dankeschön.",
        "survey_answered_title": "Bereits beantwortet",
        "survey_answered_body": "Diese Umfrage wurde bereits beantwortet. Vielen Dank!",
        "survey_closed_title": "Umfrage geschlossen",
        "survey_closed_body": "Diese Umfrage ist geschlossen. Vielen Dank für Ihre Zeit.",
        "survey_expired_title": "Dieser Link ist abgelaufen",
        "survey_expired_body": "Der Umfrage-Link ist abgelaufen, die Umfrage ist geschlossen. "
                               "Vielen Dank für Ihre Zeit.",
        "survey_invalid_title": "Dieser Link ist ungültig",
        "survey_invalid_body": "Dieser Umfrage-Link ist ungültig. Bitte öffnen Sie den Link "
                               "genau so, wie er in der E-Mail steht.",
        "survey_unavailable_title": "Umfrage nicht verfügbar",
        "survey_unavailable_body": "Die Umfrage ist gerade nicht möglich. Bitte versuchen Sie "
                                   "es später noch einmal.",
        "opt_out_link": "Ich möchte keine Umfragen oder Einladungen mehr",
        "opt_out_title": "Keine Umfragen mehr",
        "opt_out_question": "Keine Umfragen oder Einladungen mehr an meine E-Mail-Adresse "
                            "senden.",
        "opt_out_confirm": "Bestätigen",
        "opt_out_done_title": "Sie erhalten keine Umfragen mehr",
        "opt_out_done_body": "Erledigt: Wir senden keine Umfragen oder Einladungen mehr an "
                             "Ihre E-Mail-Adresse.",
        "landing_title": "Ein Geschenk von Freunden",
        "landing_offer": "{offer} Rabatt auf Ihre erste Bestellung",
        "landing_code_intro": "Jemand aus Ihrem Freundeskreis empfiehlt uns. Ihr persönlicher "
                              "Code:",
        "landing_valid": "Gültig für eine erste Bestellung, {days} Tage ab dem Tag, "
                         "an dem er ausgestellt wurde.",
        "landing_shop_applied": "Jetzt einkaufen, der Code wird eingelöst",
        "landing_shop": "Zum Shop",
        "landing_enter_code": "Geben Sie den Code an der Kasse ein.",
        "landing_unknown_title": "Code nicht gefunden",
        "landing_unknown_body": "Dieser Empfehlungscode ist unbekannt oder nicht mehr gültig.",
    },
}


def translate(language: str, key: str, **values: object) -> str:
    """The text of ``key`` in ``language`` (English when missing), with ``{name}`` filled."""
    text = MESSAGES.get(language, {}).get(key) or MESSAGES["en"].get(key, key)
    return text.format(**values) if values else text
