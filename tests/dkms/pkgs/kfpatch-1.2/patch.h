#define KF_P "0"
