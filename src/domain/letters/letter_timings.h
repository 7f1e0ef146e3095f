#pragma once
// When a letter is expected to arrive (GOV.UK's `estimated_delivery`): the figures of GOV.UK
// Notify's letter timings (notifications-utils letter_timings.py), which are facts about the
// post, computed here in our own way. A letter is processed 6 h 30 min after it is sent, printed
// on the next working day (Monday to Friday), then handed to Royal Mail, who deliver Monday to
// Friday (first class: to Saturday too) within 0 (first), 4 (second), 6 (economy), 5 (Europe) or
// 7 (rest of world) working days after the next one; the estimate is 16:00 UK time that day.
// Bank holidays in England and Wales are no working days for printers or Royal Mail: Herald
// knows them from the published list (gov.uk/bank-holidays.json) up to
// bank_holidays_known_until(); past it, the estimate can be a day early around one.

#include <chrono>
#include <string>
#include <string_view>

#include "core/time.h"

namespace herald::domain {

// `postage`: first, second, economy, europe or rest-of-world (anything else counts as second).
Timestamp estimated_letter_delivery(Timestamp sent_at, std::string_view postage);

// Whether `day` (a UK calendar day) is a bank holiday in England and Wales.
bool is_bank_holiday(std::chrono::sys_days day);
// The last bank holiday Herald knows of; `herald serve` warns when it draws near.
std::chrono::sys_days bank_holidays_known_until();

// The date printed on a letter, as GOV.UK prints it: "23 November 2026" (UK time).
std::string letter_date(Timestamp t);

// Whether `t` falls in British Summer Time (last Sunday of March 01:00 UTC to last Sunday of
// October 01:00 UTC).
bool is_british_summer_time(Timestamp t);

}  // namespace herald::domain
