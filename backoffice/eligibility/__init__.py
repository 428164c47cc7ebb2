"""Eligibility (第一篇 资格条件) per application, 资格异议 cases, and employers' part (第二篇 注册关联)."""
