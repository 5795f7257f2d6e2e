"""Printed output (reportlab, Chinese with an embedded font): label sheets, forms, receipts, notices."""
