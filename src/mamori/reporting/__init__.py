"""Incident reports (特定侵害事象等の報告): lifecycle, deadlines, scope rules, exports."""
