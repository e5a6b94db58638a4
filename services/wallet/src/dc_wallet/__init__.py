"""Wallet service: voucher orders, allocation with split payment, reimbursements and payouts.

Modules: ``settings`` (policy from the environment), ``models`` (tables), ``domain`` (pure rules:
dates, eligibility, the allocation plan, status transitions), ``repository`` (a package: reads
and writes by concern, the wallet lock), ``activities`` (what workflows call on TaskQueue.WALLET),
``service`` (the application layer: what the API does), ``api``, ``worker``, ``schedule`` (the
daily schedules).
"""
