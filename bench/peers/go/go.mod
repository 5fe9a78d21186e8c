module asynciobench

go 1.19
