int x_badabi;
