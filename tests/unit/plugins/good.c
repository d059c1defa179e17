int x_good;
