module example.com/slugs

go 1.19

require example.com/slugify v1.3.0
