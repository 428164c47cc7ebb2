"""The year statistics (年度统计): what a year of the scheme looked like, city-wide or per district."""
