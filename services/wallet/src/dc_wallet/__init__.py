"""Wallet service: voucher orders, allocation, split payment and reimbursements.

Not built yet: see the issue "Wallet: voucher orders, allocation with split payment,
reimbursements". This package only reserves its place in the workspace.
"""
