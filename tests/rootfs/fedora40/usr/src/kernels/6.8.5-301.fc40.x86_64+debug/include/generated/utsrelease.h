#define UTS_RELEASE "6.8.5-301.fc40.x86_64+debug"
