int x_misnamed;
