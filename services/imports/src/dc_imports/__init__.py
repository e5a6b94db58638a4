"""Imports service: files of services and of workers, read, validated and reported row by row.

This first layer is pure and synchronous, so the import workflow can call it in chunks from
its activities:

- :mod:`dc_imports.formats` reads CSV (Belgian spreadsheet flavours) and XLSX into rows, streamed
  and re-readable by chunk;
- :mod:`dc_imports.validation` turns rows into typed records or field errors, finds duplicates in
  the file and gives a service's natural key;
- :mod:`dc_imports.plausibility` flags what a company should look at before validating;
- :mod:`dc_imports.report` writes the ``errors.csv`` report;
- :mod:`dc_imports.generate` makes realistic files for tests and benchmarks;
- :mod:`dc_imports.check` reads and validates a file from the command line.
"""
