module example.com/shortapi-go

go 1.19
