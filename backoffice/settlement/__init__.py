"""Settlement (落户办理): 第五篇 二 and 三 — intake, checklist, two-level approval, letters, lapse."""
