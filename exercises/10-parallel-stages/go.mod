module example.com/twoprograms

go 1.19
