// User store based step-up: people whose account lives in one of the listed user stores
// (here the corporate directory) prove a second factor; accounts of any other store sign in
// with the first step alone.
var storesRequiringSecondFactor = ['CORP'];

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var store = user.userStoreDomain;
            Log.info(user.username + ' signed in from the ' + store + ' user store');
            if (storesRequiringSecondFactor.indexOf(store) >= 0) {
                executeStep(2);
            }
        }
    });
};
