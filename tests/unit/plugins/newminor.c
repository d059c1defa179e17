int x_newminor;
