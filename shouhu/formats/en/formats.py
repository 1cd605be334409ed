"""Dates on the English pages: day, month, year and a 24-hour clock, as the Chinese pages
(Django's zh-Hans formats: 2026年12月4日 14:30) show them in their own style."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
TIME_FORMAT = "H:i"
