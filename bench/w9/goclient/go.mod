module w9client

go 1.19
