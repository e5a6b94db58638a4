-- A database of its own for each service (run once, by PostgreSQL's image, on a new volume).
CREATE DATABASE dc_identity;
CREATE DATABASE dc_services;
CREATE DATABASE dc_wallet;
CREATE DATABASE dc_imports;
