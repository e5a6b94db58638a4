"""The web portal ("beveiligde zone") of companies and households, served by the gateway at /.

Pages are rendered on the server (Jinja2) and read and change data only through the gateway's
own API (:mod:`dc_gateway.portal.api`), with the person's token: a page can show nothing the API
would refuse them.
"""
