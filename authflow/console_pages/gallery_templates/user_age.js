// Age-based access: users under the minimum age, or whose birth date is not known, are refused with a
// page that says why.
var minimumAge = 18;
var birthDateClaim = 'http://wso2.org/claims/dob';

var yearsOld = function (birthDate, today) {
    var years = today.getUTCFullYear() - birthDate.getUTCFullYear();
    var birthdayToCome = today.getUTCMonth() < birthDate.getUTCMonth() ||
        (today.getUTCMonth() === birthDate.getUTCMonth() && today.getUTCDate() < birthDate.getUTCDate());
    return birthdayToCome ? years - 1 : years;
};

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var birthDate = context.currentKnownSubject.localClaims[birthDateClaim];
            if (!birthDate || yearsOld(new Date(birthDate), new Date()) < minimumAge) {
                sendError('', {
                    status: 'Access restricted',
                    statusMsg: 'You must be at least ' + minimumAge + ' to use ' + context.serviceProviderName + '.'
                });
            }
        }
    });
};
