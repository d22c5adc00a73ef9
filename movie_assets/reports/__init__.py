"""Report assets: files people open (Excel workbook, PNG charts)."""
