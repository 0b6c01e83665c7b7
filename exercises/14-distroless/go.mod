module example.com/worldclock

go 1.19
